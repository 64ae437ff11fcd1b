// Command pusher_load drives a Pusher-compatible server (Hubline or Sockudo) the same way, so that
// bench/pusher_fanout.py can put their figures side by side. A compiled client, because a Python
// subscriber saturates near 35-40k messages/s on one core: the figure would measure the client.
//
// Modes (one JSON object on stdout each):
//
//	fanout    N subscribers over C channels; a closed-loop trigger phase (deliveries/s, server CPU
//	          per delivery) then a paced phase (trigger->client latency at a fixed trigger rate).
//	idle      N subscribed, silent sockets; the server's VmRSS growth per socket.
//	triggers  signed HTTP triggers to a channel nobody listens to, closed loop; triggers/s.
//
// Latency is the subscriber's receive time minus the send time the trigger put in its data
// ("T<unix ns>|..."): client and triggers live in this one process, so the clocks are the same.
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

type config struct {
	mode         string
	wsURL        string
	httpURL      string
	appID        string
	key          string
	secret       string
	serverPID    int
	connections  int
	channels     int
	maxSeconds   float64
	inflight     int
	pacedRate    float64
	pacedSeconds float64
	warmSeconds  float64
	padding      int
	dialParallel int
}

func main() {
	var c config
	flag.StringVar(&c.mode, "mode", "fanout", "fanout | idle | triggers")
	flag.StringVar(&c.wsURL, "ws", "", "websocket base, e.g. ws://127.0.0.1:8080")
	flag.StringVar(&c.httpURL, "http", "", "HTTP base, e.g. http://127.0.0.1:8080")
	flag.StringVar(&c.appID, "app-id", "", "Pusher app id")
	flag.StringVar(&c.key, "key", "", "Pusher app key")
	flag.StringVar(&c.secret, "secret", "", "Pusher app secret")
	flag.IntVar(&c.serverPID, "server-pid", 0, "pid whose /proc stat and status are read")
	flag.IntVar(&c.connections, "connections", 1000, "subscriber sockets")
	flag.IntVar(&c.channels, "channels", 1, "channels the sockets are spread over evenly")
	flag.Float64Var(&c.maxSeconds, "max-seconds", 5, "closed-loop phase length")
	flag.IntVar(&c.inflight, "inflight", 4, "triggers in flight in the closed-loop phase")
	flag.Float64Var(&c.pacedRate, "paced-rate", 0, "triggers/s of the latency phase (0: skip it)")
	flag.Float64Var(&c.pacedSeconds, "paced-seconds", 5, "latency phase length")
	flag.Float64Var(&c.warmSeconds, "warm-seconds", 1, "closed-loop warm-up, not measured")
	flag.IntVar(&c.padding, "padding", 80, "bytes of filler in each event's data")
	flag.IntVar(&c.dialParallel, "dial-parallel", 100, "sockets opened at once")
	flag.Parse()

	var result any
	var err error
	switch c.mode {
	case "fanout":
		result, err = fanout(c)
	case "idle":
		result, err = idle(c)
	case "triggers":
		result, err = triggers(c)
	default:
		err = fmt.Errorf("unknown mode %q", c.mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pusher_load:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}

// ---- server process figures -------------------------------------------------------------

// cpuTicks is utime+stime of every thread of the process, in clock ticks (USER_HZ, 100/s).
func cpuTicks(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields count from after its closing parenthesis.
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return utime + stime, nil
}

const ticksPerSecond = 100

// ownCPU is this client's CPU time in seconds: near the phase's length, the client (not the
// server) was the bottleneck.
func ownCPU() float64 {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return float64(u.Utime.Nano()+u.Stime.Nano()) / 1e9
}

func residentKiB(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return strconv.ParseInt(strings.Fields(line)[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// ---- latency histogram ------------------------------------------------------------------

const bucketMicros = 10
const buckets = 300_000 // 3 s at 10 µs; later arrivals land in the last bucket

type histogram struct {
	counts [buckets]atomic.Uint64
}

func (h *histogram) add(nanos int64) {
	b := nanos / 1000 / bucketMicros
	if b < 0 {
		b = 0
	}
	if b >= buckets {
		b = buckets - 1
	}
	h.counts[b].Add(1)
}

func (h *histogram) reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
}

// quantiles in milliseconds.
func (h *histogram) quantiles(qs ...float64) []float64 {
	var total uint64
	snapshot := make([]uint64, buckets)
	for i := range h.counts {
		snapshot[i] = h.counts[i].Load()
		total += snapshot[i]
	}
	out := make([]float64, len(qs))
	if total == 0 {
		return out
	}
	for j, q := range qs {
		rank := uint64(q * float64(total))
		var seen uint64
		for i, n := range snapshot {
			seen += n
			if seen > rank {
				out[j] = float64((i+1)*bucketMicros) / 1000
				break
			}
		}
	}
	return out
}

// ---- subscribers ------------------------------------------------------------------------

type subscribers struct {
	delivered     atomic.Int64
	lastDelivery  atomic.Int64
	closed        atomic.Int64
	latency       histogram
	sockets       []*websocket.Conn
	writeLocks    []sync.Mutex
	closeReasons  sync.Map
	shuttingDown  atomic.Bool
	dataMarker    []byte
	pingMarker    []byte
	subscribedMkr []byte
}

func newSubscribers(n int) *subscribers {
	return &subscribers{
		sockets:       make([]*websocket.Conn, n),
		writeLocks:    make([]sync.Mutex, n),
		dataMarker:    []byte(`"T`),
		pingMarker:    []byte(`"pusher:ping"`),
		subscribedMkr: []byte(`pusher_internal:subscription_succeeded`),
	}
}

func channelName(i, channels int) string { return "bench-" + strconv.Itoa(i%channels) }

func (s *subscribers) open(c config) error {
	url := strings.TrimRight(c.wsURL, "/") + "/app/" + c.key + "?protocol=7&client=pusher_load&version=1.0"
	dialer := websocket.Dialer{HandshakeTimeout: 60 * time.Second, ReadBufferSize: 2048, WriteBufferSize: 512}
	sem := make(chan struct{}, c.dialParallel)
	errs := make(chan error, len(s.sockets))
	var wg sync.WaitGroup
	for i := range s.sockets {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.openOne(&dialer, url, i, channelName(i, c.channels)); err != nil {
				errs <- fmt.Errorf("socket %d: %w", i, err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	for i := range s.sockets {
		go s.read(i)
	}
	return nil
}

func (s *subscribers) openOne(dialer *websocket.Dialer, url string, i int, channel string) error {
	var ws *websocket.Conn
	var err error
	for attempt := 0; ; attempt++ {
		ws, _, err = dialer.Dial(url, nil)
		if err == nil || attempt == 5 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	_ = ws.SetReadDeadline(time.Now().Add(60 * time.Second))
	_, first, err := ws.ReadMessage()
	if err != nil {
		return err
	}
	if !bytes.Contains(first, []byte("pusher:connection_established")) {
		return fmt.Errorf("refused: %s", first)
	}
	sub, _ := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": channel}})
	if err := ws.WriteMessage(websocket.TextMessage, sub); err != nil {
		return err
	}
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		if bytes.Contains(msg, s.subscribedMkr) {
			break
		}
		if bytes.Contains(msg, []byte("pusher:error")) {
			return fmt.Errorf("not subscribed: %s", msg)
		}
	}
	_ = ws.SetReadDeadline(time.Time{})
	s.sockets[i] = ws
	return nil
}

var pong = []byte(`{"event":"pusher:pong","data":{}}`)

func (s *subscribers) read(i int) {
	ws := s.sockets[i]
	buf := bytes.NewBuffer(make([]byte, 0, 1024))
	for {
		_, r, err := ws.NextReader()
		if err != nil {
			if !s.shuttingDown.Load() {
				s.closed.Add(1)
				s.closeReasons.Store(err.Error(), true)
			}
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			continue
		}
		msg := buf.Bytes()
		if at := bytes.Index(msg, s.dataMarker); at >= 0 {
			now := time.Now().UnixNano()
			var sent int64
			for _, ch := range msg[at+2:] {
				if ch < '0' || ch > '9' {
					break
				}
				sent = sent*10 + int64(ch-'0')
			}
			s.latency.add(now - sent)
			s.delivered.Add(1)
			s.lastDelivery.Store(now)
			continue
		}
		if bytes.Contains(msg, s.pingMarker) {
			s.writeLocks[i].Lock()
			_ = ws.WriteMessage(websocket.TextMessage, pong)
			s.writeLocks[i].Unlock()
		}
	}
}

func (s *subscribers) close() {
	s.shuttingDown.Store(true)
	for _, ws := range s.sockets {
		if ws != nil {
			_ = ws.Close()
		}
	}
}

func (s *subscribers) reasons() []string {
	var out []string
	s.closeReasons.Range(func(k, _ any) bool {
		if len(out) < 5 {
			out = append(out, k.(string))
		}
		return true
	})
	return out
}

// ---- signed triggers --------------------------------------------------------------------

type trigger struct {
	c       config
	client  *http.Client
	filler  string
	sent    atomic.Int64
	failed  atomic.Int64
	lastErr atomic.Value
	reqLat  histogram
}

func newTrigger(c config, conns int) *trigger {
	transport := &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, IdleConnTimeout: 60 * time.Second}
	return &trigger{c: c, client: &http.Client{Transport: transport, Timeout: 30 * time.Second}, filler: strings.Repeat("x", c.padding)}
}

// send posts one event to `channel`, signed as Pusher's HTTP API defines it.
func (t *trigger) send(channel string) bool {
	start := time.Now()
	data := "T" + strconv.FormatInt(start.UnixNano(), 10) + "|" + t.filler
	body, _ := json.Marshal(map[string]string{"name": "bench-event", "channel": channel, "data": data})
	sum := md5.Sum(body)
	path := "/apps/" + t.c.appID + "/events"
	query := "auth_key=" + t.c.key + "&auth_timestamp=" + strconv.FormatInt(start.Unix(), 10) +
		"&auth_version=1.0&body_md5=" + hex.EncodeToString(sum[:])
	mac := hmac.New(sha256.New, []byte(t.c.secret))
	mac.Write([]byte("POST\n" + path + "\n" + query))
	url := strings.TrimRight(t.c.httpURL, "/") + path + "?" + query + "&auth_signature=" + hex.EncodeToString(mac.Sum(nil))
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		t.failed.Add(1)
		t.lastErr.Store(err.Error())
		return false
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.failed.Add(1)
		t.lastErr.Store(fmt.Sprintf("%d %s", resp.StatusCode, answer))
		return false
	}
	t.reqLat.add(time.Since(start).Nanoseconds())
	t.sent.Add(1)
	return true
}

func (t *trigger) lastError() string {
	if v := t.lastErr.Load(); v != nil {
		return v.(string)
	}
	return ""
}

// closedLoop keeps `inflight` triggers outstanding for `seconds`, round-robin over the channels.
func (t *trigger) closedLoop(inflight, channels int, seconds float64) {
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < inflight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t.send(channelName(int(next.Add(1)), channels))
			}
		}()
	}
	wg.Wait()
}

// paced sends `rate` triggers/s (open loop: a slow answer does not delay the next send); a send
// that finds 256 already outstanding is counted as skipped -- the server is not keeping up.
func (t *trigger) paced(rate float64, channels int, seconds float64) (skipped int64) {
	interval := time.Duration(float64(time.Second) / rate)
	total := int(rate * seconds)
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	start := time.Now()
	for n := 0; n < total; n++ {
		if wait := time.Until(start.Add(time.Duration(n) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		select {
		case sem <- struct{}{}:
			wg.Add(1)
			go func(n int) {
				defer wg.Done()
				t.send(channelName(n, channels))
				<-sem
			}(n)
		default:
			skipped++
		}
	}
	wg.Wait()
	return skipped
}

// ---- modes ------------------------------------------------------------------------------

type phase struct {
	Triggers        int64   `json:"triggers"`
	TriggerFailures int64   `json:"trigger_failures"`
	Skipped         int64   `json:"skipped,omitempty"`
	Expected        int64   `json:"expected_deliveries"`
	Delivered       int64   `json:"delivered"`
	Seconds         float64 `json:"seconds"`
	DeliveriesPerS  float64 `json:"deliveries_per_s"`
	TriggersPerS    float64 `json:"triggers_per_s"`
	P50ms           float64 `json:"p50_ms"`
	P99ms           float64 `json:"p99_ms"`
	MaxMs           float64 `json:"max_ms"`
	ServerCPUs      float64 `json:"server_cpu_s"`
	CPUusPerDeliv   float64 `json:"server_cpu_us_per_delivery"`
	ServerBusy      float64 `json:"server_cpu_share"`
	ClientBusy      float64 `json:"client_cpu_share"`
	TriggerP50ms    float64 `json:"trigger_http_p50_ms"`
	TriggerP99ms    float64 `json:"trigger_http_p99_ms"`
	LastError       string  `json:"last_error,omitempty"`
}

// measure runs `drive`, then waits for the deliveries it caused to arrive (or stop arriving).
func measure(c config, s *subscribers, t *trigger, drive func() int64) (phase, error) {
	perChannel := int64(c.connections / c.channels)
	s.latency.reset()
	t.reqLat.reset()
	t.sent.Store(0)
	t.failed.Store(0)
	s.delivered.Store(0)
	before, err := cpuTicks(c.serverPID)
	if err != nil {
		return phase{}, err
	}
	clientBefore := ownCPU()
	start := time.Now()
	skipped := drive()
	triggerEnd := time.Now()
	expected := t.sent.Load() * perChannel
	// Drain: everything expected arrived, or nothing new for a second (lost or stuck), or 20 s.
	lastCount, lastChange := int64(-1), time.Now()
	for time.Since(triggerEnd) < 20*time.Second {
		got := s.delivered.Load()
		if got >= expected {
			break
		}
		if got != lastCount {
			lastCount, lastChange = got, time.Now()
		} else if time.Since(lastChange) > time.Second {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	after, err := cpuTicks(c.serverPID)
	if err != nil {
		return phase{}, err
	}
	clientCPU := ownCPU() - clientBefore
	delivered := s.delivered.Load()
	end := time.Unix(0, s.lastDelivery.Load())
	if end.Before(triggerEnd) {
		end = triggerEnd
	}
	secs := end.Sub(start).Seconds()
	q := s.latency.quantiles(0.5, 0.99, 0.999999)
	tq := t.reqLat.quantiles(0.5, 0.99)
	p := phase{
		Triggers: t.sent.Load(), TriggerFailures: t.failed.Load(), Skipped: skipped,
		Expected: expected, Delivered: delivered, Seconds: secs,
		DeliveriesPerS: float64(delivered) / secs, TriggersPerS: float64(t.sent.Load()) / triggerEnd.Sub(start).Seconds(),
		P50ms: q[0], P99ms: q[1], MaxMs: q[2],
		ServerCPUs:   float64(after-before) / ticksPerSecond,
		TriggerP50ms: tq[0], TriggerP99ms: tq[1], LastError: t.lastError(),
		ServerBusy: float64(after-before) / ticksPerSecond / secs, ClientBusy: clientCPU / secs,
	}
	if delivered > 0 {
		p.CPUusPerDeliv = p.ServerCPUs * 1e6 / float64(delivered)
	}
	return p, nil
}

type fanoutResult struct {
	Connections int      `json:"connections"`
	Channels    int      `json:"channels"`
	PerChannel  int      `json:"subscribers_per_channel"`
	ConnectSecs float64  `json:"connect_seconds"`
	Max         phase    `json:"max"`
	Paced       *phase   `json:"paced,omitempty"`
	Closed      int64    `json:"sockets_closed_by_server"`
	Reasons     []string `json:"close_reasons,omitempty"`
}

func fanout(c config) (any, error) {
	s := newSubscribers(c.connections)
	began := time.Now()
	if err := s.open(c); err != nil {
		s.close()
		return nil, err
	}
	defer s.close()
	r := fanoutResult{Connections: c.connections, Channels: c.channels, PerChannel: c.connections / c.channels,
		ConnectSecs: time.Since(began).Seconds()}
	t := newTrigger(c, c.inflight+256)
	if c.warmSeconds > 0 {
		if _, err := measure(c, s, t, func() int64 { t.closedLoop(c.inflight, c.channels, c.warmSeconds); return 0 }); err != nil {
			return nil, err
		}
	}
	var err error
	if r.Max, err = measure(c, s, t, func() int64 { t.closedLoop(c.inflight, c.channels, c.maxSeconds); return 0 }); err != nil {
		return nil, err
	}
	if c.pacedRate > 0 {
		p, err := measure(c, s, t, func() int64 { return t.paced(c.pacedRate, c.channels, c.pacedSeconds) })
		if err != nil {
			return nil, err
		}
		r.Paced = &p
	}
	r.Closed = s.closed.Load()
	r.Reasons = s.reasons()
	return r, nil
}

func idle(c config) (any, error) {
	before, err := residentKiB(c.serverPID)
	if err != nil {
		return nil, err
	}
	s := newSubscribers(c.connections)
	if err := s.open(c); err != nil {
		s.close()
		return nil, err
	}
	defer s.close()
	time.Sleep(3 * time.Second)
	after, err := residentKiB(c.serverPID)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"connections": c.connections, "rss_before_kib": before, "rss_connected_kib": after,
		"kib_per_connection":       float64(after-before) / float64(c.connections),
		"sockets_closed_by_server": s.closed.Load(),
	}, nil
}

func triggers(c config) (any, error) {
	t := newTrigger(c, c.inflight)
	c.connections, c.channels = 0, 1
	s := newSubscribers(0)
	if c.warmSeconds > 0 {
		t.closedLoop(c.inflight, 1, c.warmSeconds)
	}
	// Nobody subscribes to "bench-0" here: the figure is the HTTP API's and the log's cost alone.
	p, err := measure(c, s, t, func() int64 { t.closedLoop(c.inflight, 1, c.maxSeconds); return 0 })
	if err != nil {
		return nil, err
	}
	cpu := 0.0
	if p.Triggers > 0 {
		cpu = p.ServerCPUs * 1e6 / float64(p.Triggers)
	}
	return map[string]any{
		"inflight": c.inflight, "triggers": p.Triggers, "failures": p.TriggerFailures,
		"triggers_per_s": p.TriggersPerS, "http_p50_ms": p.TriggerP50ms, "http_p99_ms": p.TriggerP99ms,
		"server_cpu_us_per_trigger": cpu, "last_error": p.LastError,
		"server_cpu_share": p.ServerBusy, "client_cpu_share": p.ClientBusy,
	}, nil
}
