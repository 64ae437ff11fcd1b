// OpenShock's SignalR hubs through @microsoft/signalr in Node, as ShockOSC-style clients connect:
// negotiate version 1, WebSockets, the API token in the OpenShockToken header.
// Usage:
//   node openshock_hubs.mjs user <hub url> <api token> <shocker id>
//     prints each Welcome, DeviceStatus and Log as a JSON line ({"target", "args"}); after the
//     first DeviceStatus invokes ControlV2 on the shocker (prints INVOKED) and exits after a Log.
//   node openshock_hubs.mjs share <hub url with ?name=> <shocker id>
//     prints Welcome, invokes Control on the shocker (prints INVOKED) and exits.
import * as signalR from "@microsoft/signalr";

const [mode, hubUrl, ...rest] = process.argv.slice(2);
const headers = mode === "user" ? { OpenShockToken: rest[0] } : {};
const shocker = mode === "user" ? rest[1] : rest[0];
const connection = new signalR.HubConnectionBuilder()
  .withUrl(hubUrl, { headers, transport: signalR.HttpTransportType.WebSockets })
  .configureLogging(signalR.LogLevel.Warning)
  .build();
const timer = setTimeout(() => { console.error("nothing within 20 s"); process.exit(2); }, 20000);
const print = (target, args) => console.log(JSON.stringify({ target, args }));
const done = async () => { clearTimeout(timer); await connection.stop(); process.exit(0); };

connection.on("Welcome", (...args) => print("Welcome", args));
connection.on("Log", async (...args) => { print("Log", args); await done(); });
connection.on("DeviceStatus", async (...args) => {
  print("DeviceStatus", args);
  if (mode === "user") {
    await connection.invoke("ControlV2", [{ id: shocker, type: 2, intensity: 40, duration: 800 }], "node");
    console.log("INVOKED");
  }
});
await connection.start();
if (mode === "share") {
  await connection.invoke("Control", [{ id: shocker, type: "Vibrate", intensity: 40, duration: 800 }]);
  console.log("INVOKED");
  await done();
}
