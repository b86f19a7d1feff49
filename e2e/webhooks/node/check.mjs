// Verifies real Tessera deliveries with the official `standardwebhooks` npm
// package. Reads {"secrets": [...], "deliveries": [{"headers": {...}, "body": "..."}]}
// on stdin; prints, for each delivery, whether each secret verifies it
// ([[true, false], ...]), as JSON on stdout.
import { Webhook } from "standardwebhooks";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { secrets, deliveries } = JSON.parse(input);
const results = deliveries.map(({ headers, body }) =>
  secrets.map((secret) => {
    try {
      new Webhook(secret).verify(body, headers);
      return true;
    } catch {
      return false;
    }
  }),
);
process.stdout.write(JSON.stringify(results));
