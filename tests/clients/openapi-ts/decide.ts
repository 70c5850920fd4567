// A pacerd client written only against the code @hey-api/openapi-ts
// generates from conf/share/openapi.json (./gen: one function per
// operationId, the types of every body and answer, the bearer scheme).
// tsc --strict compiles it with the generated types, so a field this file
// reads that the document does not declare fails the build.
//
//   node dist/decide.js BASE_URL ADMIN_TOKEN DECIDE_TOKEN CUSTOMER
//
// Prints one JSON line per call: {"step", "status", "data" | "error"}.
// tests/integration/test_openapi_client.py runs it against a real pacerd
// (channel push capped at 1/1h) and checks every line.

import { createClient, createConfig } from './gen/client';
import type { Client } from './gen/client';
import {
    cancel,
    decide,
    explainCustomer,
    putCustomer,
} from './gen/sdk.gen';
import type { Decision, Error as ApiError } from './gen/types.gen';

declare const process: { argv: string[]; exitCode?: number };

const [baseUrl, adminToken, decideToken, customer] = process.argv.slice(2);

function connect(token: string): Client {
    // auth: the generated operations carry security [{bearer}], so the
    // client sends "Authorization: Bearer TOKEN" by itself.
    return createClient(createConfig({ baseUrl, auth: token }));
}

function report(step: string, status: number, data?: unknown,
                error?: ApiError): void {
    console.log(JSON.stringify({ step, status, data, error }));
}

// A decision as the document types it: only declared fields are read.
function decision(d: Decision) {
    return {
        allow: d.allow,
        reason: d.reason,
        rule: d.rule,
        retry_after: d.retry_after,
        next_allowed: d.next_allowed,
        send_id: d.send_id,
    };
}

async function main(): Promise<void> {
    const admin = connect(adminToken);
    const dec = connect(decideToken);
    const nobody = connect('not-a-token-of-this-pacerd');

    // 1. The admin gives consent (putCustomer: path parameter id, JSON body).
    const put = await putCustomer({
        client: admin,
        path: { id: customer },
        body: { consent: { push: true, email: true, sms: true }, tz: 'UTC' },
    });
    report('put', put.response.status, put.data, put.error);

    // 2. The first push is allowed.
    const first = await decide({
        client: dec,
        body: { customer, channel: 'push', send_id: 'gen-1' },
    });
    report('allowed', first.response.status,
           first.data && decision(first.data), first.error);

    // 3. The second one is denied by the cap, with retry_after.
    const second = await decide({
        client: dec,
        body: { customer, channel: 'push', send_id: 'gen-2' },
    });
    report('capped', second.response.status,
           second.data && decision(second.data), second.error);

    // 4. The first send failed: cancel it, its reservation stops counting.
    const undo = await cancel({
        client: dec,
        body: { customer, send_id: 'gen-1' },
    });
    report('cancel', undo.response.status, undo.data, undo.error);

    // 5. After the cancel the cap has room again.
    const third = await decide({
        client: dec,
        body: { customer, channel: 'push', send_id: 'gen-3' },
    });
    report('allowed_again', third.response.status,
           third.data && decision(third.data), third.error);

    // 6. gen-3 is a live push: asking for an email with it is a client bug.
    const clash = await decide({
        client: dec,
        body: { customer, channel: 'email', send_id: 'gen-3' },
    });
    report('conflict', clash.response.status,
           clash.data && decision(clash.data), clash.error);

    // 7. The customer read: what pacerd holds now.
    const ex = await explainCustomer({ client: dec, path: { id: customer } });
    report('explain', ex.response.status,
           ex.data && { recent_contacts: ex.data.recent_contacts }, ex.error);

    // 8. A token pacerd does not know, and a decide token on an admin route.
    const anon = await decide({
        client: nobody,
        body: { customer, channel: 'push', dry_run: true },
    });
    report('unauthorized', anon.response.status, anon.data, anon.error);
    const denied = await putCustomer({
        client: dec,
        path: { id: customer },
        body: { tz: 'UTC' },
    });
    report('forbidden', denied.response.status, denied.data, denied.error);
}

main().catch((e: unknown) => {
    console.log(JSON.stringify({ step: 'crash', error: String(e) }));
    process.exitCode = 1;
});
