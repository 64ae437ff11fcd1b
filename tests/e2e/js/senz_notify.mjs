// SENZ change notifications through @microsoft/signalr, as the seed's JS sample connects:
// negotiate version 1, the access token from accessTokenFactory, Subscribe then wait for Notify.
// Usage: node senz_notify.mjs <hub url> <access token>   (prints the first Notify as JSON)
import * as signalR from "@microsoft/signalr";

const [hubUrl, token] = process.argv.slice(2);
const connection = new signalR.HubConnectionBuilder()
  .withUrl(hubUrl, { accessTokenFactory: () => token, transport: signalR.HttpTransportType.WebSockets })
  .configureLogging(signalR.LogLevel.Warning)
  .build();

const timer = setTimeout(() => { console.error("no Notify within 20 s"); process.exit(2); }, 20000);
connection.on("Notify", async (items) => {
  console.log(JSON.stringify(items));
  clearTimeout(timer);
  await connection.stop();
  process.exit(0);
});
await connection.start();
await connection.invoke("Subscribe", ["1", "2"]);
console.log("SUBSCRIBED");
