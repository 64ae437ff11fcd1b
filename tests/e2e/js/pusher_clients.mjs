// Two pusher-js clients (protocol 7) on one Hubline app (with subscription_count events on):
// public, private, presence and private-encrypted channels, client events, subscription
// counts, sign-in with a watchlist (a watches b) and the server-to-user channel. Channel and
// user auth come from the test's own endpoint (signed there by the `pusher` PyPI library,
// which also hands out the encrypted channel's shared_secret).
// Usage: node pusher_clients.mjs '<json: {key, host, port, authUrl, suffix}>'
// Prints one JSON line per step; "READY" when the test may trigger {"cached-evt" on
// cache-<suffix>, then "server-evt" on the public channel, "user-evt" to user "a",
// "secret-evt" on private-encrypted-<suffix>, encrypted by the backend}, and waits for them;
// exits 0 when all passed.
import Pusher from "pusher-js";
if (process.env.PUSHER_LOG) Pusher.logToConsole = true;

const { key, host, port, authUrl, suffix } = JSON.parse(process.argv[2]);
const publicName = `public-${suffix}`;
const privateName = `private-${suffix}`;
const presenceName = `presence-${suffix}`;

const say = (step, detail = {}) => console.log(JSON.stringify({ step, ...detail }));
const fail = (why) => { console.error(`FAILED: ${why}`); process.exit(1); };
setTimeout(() => fail("scenario did not finish within 40 s"), 40000);

async function signed(body) {
  const response = await fetch(authUrl, { method: "POST", body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`auth endpoint answered ${response.status}`);
  return response.json();
}

function client(user, watchlist) {
  return new Pusher(key, {
    cluster: "local", wsHost: host, wsPort: port, forceTLS: false,
    enabledTransports: ["ws"], disableStats: true,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, done) =>
        signed({ kind: "channel", socket_id: socketId, channel: channelName, user })
          .then((auth) => done(null, auth), (error) => done(error, null)),
    },
    userAuthentication: {
      customHandler: ({ socketId }, done) =>
        signed({ kind: "user", socket_id: socketId, user, watchlist })
          .then((auth) => done(null, auth), (error) => done(error, null)),
    },
  });
}

const once = (target, event, within = 10000) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no ${event} within ${within} ms`)), within);
  target.bind(event, function handler(data, metadata) {
    clearTimeout(timer);
    target.unbind(event, handler);
    resolve({ data, metadata });
  });
});
const connected = (pusher) => pusher.connection.state === "connected"
  ? Promise.resolve() : once(pusher.connection, "connected");
const subscribed = async (pusher, name) => {
  const channel = pusher.subscribe(name);
  const { data } = await once(channel, "pusher:subscription_succeeded");
  return { channel, data };
};

try {
  const a = client("a", ["b"]);
  const b = client("b");
  await Promise.all([connected(a), connected(b)]);
  say("connected", { a: a.connection.socket_id, b: b.connection.socket_id });

  const aPublic = (await subscribed(a, publicName)).channel;
  const aPrivate = (await subscribed(a, privateName)).channel;
  const aPresence = await subscribed(a, presenceName);
  if (aPresence.data.count !== 1 || aPresence.data.me.id !== "a") fail("a alone in presence");
  say("subscribed", { members: aPresence.data.count });

  const added = once(aPresence.channel, "pusher:member_added");
  const bPrivate = (await subscribed(b, privateName)).channel;
  const bPresence = await subscribed(b, presenceName);
  const member = (await added).data;
  if (member.id !== "b" || member.info.name !== "user b") fail(`member_added ${JSON.stringify(member)}`);
  if (bPresence.data.count !== 2) fail(`b sees ${bPresence.data.count} members`);
  say("member_added", { id: member.id, count: bPresence.data.count });

  // The app asked for subscription counts: a hears the public channel's count change.
  const counted = once(aPublic, "pusher:subscription_count");
  await subscribed(b, publicName);
  const count = (await counted).data;
  if (count.subscription_count !== 2 || aPublic.subscriptionCount !== 2) {
    fail(`subscription_count ${JSON.stringify(count)}`);
  }
  say("subscription_count", { count: count.subscription_count });

  let echoed = false;
  bPrivate.bind("client-hello", () => { echoed = true; });
  const hello = once(aPrivate, "client-hello");
  if (!bPrivate.trigger("client-hello", { n: 1 })) fail("pusher-js refused to send");
  const got = (await hello).data;
  if (got.n !== 1) fail(`client-hello ${JSON.stringify(got)}`);
  say("client_event", got);

  const onPresence = once(aPresence.channel, "client-presence");
  bPresence.channel.trigger("client-presence", "hi");
  const presenceEvent = await onPresence;
  if (presenceEvent.metadata?.user_id !== "b") fail(`user_id ${JSON.stringify(presenceEvent.metadata)}`);
  say("client_event_user_id", { user_id: presenceEvent.metadata.user_id });

  // A client event on a public channel: Pusher's 4301, and the connection carries on.
  const refused = once(a.connection, "error");
  aPublic.trigger("client-nope", {});
  const error = (await refused).data;
  if (error.data?.code !== 4301) fail(`error ${JSON.stringify(error)}`);
  if (a.connection.state !== "connected") fail("refused client event closed the connection");
  say("client_event_refused", { code: error.data.code });

  // a's watchlist names b, who is connected but not signed in: offline at first.
  const initially = once(a.user.watchlist, "offline");
  a.signin();
  await a.user.signinDonePromise;
  for (let i = 0; i < 100 && !a.user.serverToUserChannel?.subscribed; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!a.user.serverToUserChannel?.subscribed) fail("not subscribed to #server-to-user-a");
  say("signed_in", { id: a.user.user_data.id });
  say("watchlist_offline", { user_ids: (await initially).data.user_ids });
  const cameOnline = once(a.user.watchlist, "online");
  b.signin();
  await b.user.signinDonePromise;
  say("watchlist_online", { user_ids: (await cameOnline).data.user_ids });

  // End to end: pusher-js opens what the backend sealed with the channel's shared secret.
  const aSecret = (await subscribed(a, `private-encrypted-${suffix}`)).channel;
  const secretEvent = once(aSecret, "secret-evt", 20000);

  // A cache channel with no event yet: pusher:cache_miss after subscription_succeeded.
  const missed = a.subscribe(`cache-missing-${suffix}`);
  await once(missed, "pusher:cache_miss");
  say("cache_miss");

  const serverEvent = once(aPublic, "server-evt", 20000);
  const userEvent = once(a.user, "user-evt", 20000);
  say("READY");
  const triggered = await serverEvent;
  say("server_event", { data: triggered.data });
  say("user_event", { data: (await userEvent).data });
  say("encrypted_event", { data: (await secretEvent).data });

  // The test triggered "cached-evt" on the cache channel before "server-evt": a new
  // subscriber is sent it at once.
  const cached = b.subscribe(`cache-${suffix}`);
  const replayed = await once(cached, "cached-evt");
  say("cache_replayed", { data: replayed.data });

  const removed = once(aPresence.channel, "pusher:member_removed");
  const wentOffline = once(a.user.watchlist, "offline");
  b.disconnect();
  const gone = (await removed).data;
  if (gone.id !== "b") fail(`member_removed ${JSON.stringify(gone)}`);
  say("member_removed", { id: gone.id });
  say("watchlist_offline_again", { user_ids: (await wentOffline).data.user_ids });
  if (echoed) fail("the sender received its own client event");
  a.disconnect();
  say("DONE");
  process.exit(0);
} catch (error) {
  fail(error.stack || String(error));
}
