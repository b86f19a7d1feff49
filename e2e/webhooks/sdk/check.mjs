// Checks recorded webhook deliveries with our Node SDK's verifyWebhook
// (sdks/node's built dist/), as the end-to-end tests' checker for the Node
// SDK. Reads the JSON file named by TESSERA_WEBHOOK_DELIVERIES:
// {"secrets": [...], "deliveries": [{"headers": {...}, "body": "..."}]};
// prints for each delivery, for each secret, "ok" or the error code
// ([["ok", "invalid_signature"], ...]) as JSON on stdout.
import { readFileSync } from "node:fs";

import { verifyWebhook, WebhookError } from "../../../sdks/node/dist/index.js";

const { secrets, deliveries } = JSON.parse(readFileSync(process.env.TESSERA_WEBHOOK_DELIVERIES, "utf8"));
const results = deliveries.map(({ headers, body }) =>
  secrets.map((secret) => {
    try {
      verifyWebhook(secret, headers, body);
      return "ok";
    } catch (err) {
      if (err instanceof WebhookError) return err.code;
      throw err;
    }
  }),
);
process.stdout.write(JSON.stringify(results));
