#!/usr/bin/env -S node --experimental-websocket
/*
 * Screenshots of the addon's screens, in Spanish, from a running Odoo, with headless Chromium.
 *
 * No npm package needed: Node's fetch logs in through JSON-RPC, Chromium is driven through the
 * DevTools protocol over Node's WebSocket (built in from Node 22; Node 20 needs --experimental-websocket).
 *
 *   node --experimental-websocket tools/screenshots.js --url http://127.0.0.1:8071 --db bac_shots \
 *        [--login admin --password admin --lang es_MX --out docs/screenshots --only integraciones \
 *         --cfdi /path/to/amazon_commission_cfdi.xml]
 *
 * The database needs at least one Amazon connection (an authorized one and a draft one for all shots);
 * the listing, order and payout shots need the connection's listings, orders and settlements (Import
 * listings, Sync orders now and Synchronize payouts on the simulator's demo scenario). With --cfdi the
 * commission wizard is shot with that CFDI loaded, otherwise empty.
 * 1200 px wide keeps the chatter under the form, so the form gets the whole width (the docs use 1280).
 *
 * Each shot opens an Odoo URL, optionally clicks a notebook tab, then optionally clicks a button
 * (`click`: a wizard opens) and loads a file into a file input (`upload`), waits for a selector and saves
 * <out>/<name>.png. Add later views to SHOTS below; `path` may be a function of the records found by
 * `prepare` (JSON-RPC calls made as the logged-in user). A shot whose records are missing is skipped.
 */
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const SHOTS = [
    {
        name: "integraciones",
        path: (ctx) => `/odoo/action-base.action_res_company_form/${ctx.companyId}`,
        tab: "integrations",
        waitFor: ".o_notebook .o_field_one2many .o_data_row",
    },
    {
        name: "connection_form",
        path: (ctx) => `/odoo/amazon-connections/${ctx.accountId}`,
        tab: "settings",
        waitFor: ".o_form_view .o_notebook [name='pricelist_id']",
    },
    {
        name: "connection_authorize",
        path: (ctx) => `/odoo/amazon-connections/${ctx.draftAccountId}`,
        tab: "settings",
        waitFor: ".o_form_view .alert-info",
    },
    {
        name: "listings",
        path: () => "/odoo/amazon-listings",
        waitFor: ".o_list_view .o_data_row",
    },
    {
        name: "listing_form",
        needs: "conflictListingId",
        path: (ctx) => `/odoo/amazon-listings/${ctx.conflictListingId}`,
        waitFor: ".o_form_view div[name='conflict_product_ids'] .o_data_row",
    },
    {
        name: "set_stock_wizard",
        path: (ctx) => `/odoo/amazon-connections/${ctx.accountId}`,
        tab: "listings",
        click: "button[name='action_set_stock_from_amazon']",
        waitFor: ".modal .o_data_row",
    },
    {
        name: "orders",
        path: () => "/odoo/action-bind_amazon_connector.amazon_order_action",
        waitFor: ".o_list_view .o_data_row",
    },
    {
        name: "order_form",
        needs: "orderId",
        path: (ctx) => `/odoo/action-bind_amazon_connector.amazon_order_action/${ctx.orderId}`,
        waitFor: ".o_form_view .o-form-buttonbox",
    },
    {
        name: "settlements",
        path: () => "/odoo/action-bind_amazon_connector.amazon_settlement_action",
        waitFor: ".o_list_view .o_data_row",
    },
    {
        name: "cfdi_wizard",
        needs: "settlementId",
        path: (ctx) => `/odoo/action-bind_amazon_connector.amazon_settlement_action/${ctx.settlementId}`,
        click: "button[name='action_load_cfdi']",
        upload: (ctx) => ctx.cfdi && { selector: ".modal div[name='xml_file'] input[type='file']", file: ctx.cfdi },
        waitFor: (ctx) => (ctx.cfdi ? ".modal div[name='cfdi_uuid']" : ".modal .o_form_view"),
    },
    {
        name: "connection_sales_tab",
        path: (ctx) => `/odoo/amazon-connections/${ctx.accountId}`,
        tab: "sales",
        waitFor: ".o_form_view .o_notebook .o_list_renderer .o_data_row",
    },
];

function parseArgs(argv) {
    const args = {
        url: "http://127.0.0.1:8071", db: null, login: "admin", password: "admin", lang: "es_MX",
        out: path.join(__dirname, "..", "docs", "screenshots"), only: null, width: 1200, height: 900,
        chromium: "/usr/bin/chromium", timeout: 30000, cfdi: null,
    };
    for (let i = 2; i < argv.length; i += 2) {
        const key = argv[i].replace(/^--/, "");
        if (!(key in args)) throw new Error(`unknown option --${key}`);
        args[key] = typeof args[key] === "number" ? Number(argv[i + 1]) : argv[i + 1];
    }
    return args;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Odoo {
    constructor(url, db) {
        this.url = url;
        this.db = db;
        this.cookie = null;
    }
    async rpc(route, params) {
        const res = await fetch(this.url + route, {
            method: "POST",
            headers: { "Content-Type": "application/json", ...(this.cookie ? { Cookie: this.cookie } : {}) },
            body: JSON.stringify({ jsonrpc: "2.0", method: "call", id: 1, params }),
        });
        const setCookie = res.headers.get("set-cookie");
        if (setCookie && setCookie.includes("session_id=")) {
            this.cookie = setCookie.match(/session_id=[^;]+/)[0];
        }
        const body = await res.json();
        if (body.error) throw new Error(`${route}: ${JSON.stringify(body.error.data?.message || body.error)}`);
        return body.result;
    }
    login(login, password) {
        return this.rpc("/web/session/authenticate", { db: this.db, login, password });
    }
    call(model, method, args = [], kwargs = {}) {
        return this.rpc(`/web/dataset/call_kw/${model}/${method}`, { model, method, args, kwargs });
    }
}

/** Records the shots need, looked up (not created) as the logged-in user. */
async function prepare(odoo, session, lang) {
    await odoo.call("res.users", "write", [[session.uid], { lang }]);
    const accounts = await odoo.call("amazon.account", "search_read", [[]], {
        fields: ["id", "company_id", "state"], order: "id",
    });
    if (!accounts.length) throw new Error("no Amazon connection in this database: create one first");
    const authorized = accounts.find((a) => a.state === "authorized") || accounts[0];
    const draft = accounts.find((a) => a.state === "draft") || accounts[0];
    const first = async (model, domain, order = "id") =>
        (await odoo.call(model, "search", [domain], { limit: 1, order }))[0];
    return {
        accountId: authorized.id, draftAccountId: draft.id, companyId: authorized.company_id[0],
        // a listing in conflict shows the candidates; else any listing
        conflictListingId: (await first("amazon.listing", [["mapping_state", "=", "conflict"]]))
            || (await first("amazon.listing", [])),
        // an imported order has its sale, delivery and invoice buttons
        orderId: (await first("amazon.order", [["state", "=", "imported"], ["sale_order_id.invoice_status", "=", "invoiced"]]))
            || (await first("amazon.order", [["state", "=", "imported"]])) || (await first("amazon.order", [])),
        settlementId: await first("amazon.settlement", [], "id desc"),
    };
}

class Chrome {
    async launch(binary, width, height) {
        this.profile = fs.mkdtempSync(path.join(os.tmpdir(), "bac-shots-"));
        this.proc = spawn(binary, [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
            "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--remote-debugging-port=0",
            `--user-data-dir=${this.profile}`, `--window-size=${width},${height}`, "about:blank",
        ], { stdio: "ignore" });
        const portFile = path.join(this.profile, "DevToolsActivePort");
        for (let i = 0; i < 100 && !fs.existsSync(portFile); i++) await sleep(100);
        const port = fs.readFileSync(portFile, "utf8").split("\n")[0];
        const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
        const page = targets.find((t) => t.type === "page");
        this.ws = new WebSocket(page.webSocketDebuggerUrl);
        this.pending = new Map();
        this.nextId = 1;
        this.ws.onmessage = (event) => {
            const msg = JSON.parse(event.data);
            if (msg.id && this.pending.has(msg.id)) {
                const { resolve, reject } = this.pending.get(msg.id);
                this.pending.delete(msg.id);
                msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result);
            }
        };
        await new Promise((resolve, reject) => {
            this.ws.onopen = resolve;
            this.ws.onerror = reject;
        });
    }
    send(method, params = {}) {
        const id = this.nextId++;
        this.ws.send(JSON.stringify({ id, method, params }));
        return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    }
    async evaluate(expression) {
        const res = await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
        return res.result.value;
    }
    async waitFor(selector, timeout) {
        const end = Date.now() + timeout;
        while (Date.now() < end) {
            if (await this.evaluate(`!!document.querySelector(${JSON.stringify(selector)})`)) return;
            await sleep(200);
        }
        throw new Error(`timeout waiting for ${selector}`);
    }
    async close() {
        try {
            this.ws.close();
        } catch {
            // already closed
        }
        const exited = new Promise((resolve) => this.proc.once("exit", resolve));
        this.proc.kill();
        await Promise.race([exited, sleep(5000)]);
        try {
            fs.rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 300 });
        } catch (err) {
            console.warn(`could not remove the browser profile ${this.profile}: ${err.message}`);
        }
    }
}

async function main() {
    const args = parseArgs(process.argv);
    if (!args.db) throw new Error("--db is required");
    const odoo = new Odoo(args.url, args.db);
    const session = await odoo.login(args.login, args.password);
    const ctx = await prepare(odoo, session, args.lang);
    fs.mkdirSync(args.out, { recursive: true });
    const chrome = new Chrome();
    await chrome.launch(args.chromium, args.width, args.height);
    try {
        await chrome.send("Page.enable");
        await chrome.send("Network.enable");
        const [name, value] = odoo.cookie.split("=");
        await chrome.send("Network.setCookie", { name, value, url: args.url, httpOnly: true });
        await chrome.send("Emulation.setDeviceMetricsOverride", {
            width: args.width, height: args.height, deviceScaleFactor: 1, mobile: false,
        });
        ctx.cfdi = args.cfdi && path.resolve(args.cfdi);
        for (const shot of SHOTS) {
            if (args.only && !args.only.split(",").includes(shot.name)) continue;
            if (shot.needs && !ctx[shot.needs]) {
                console.log(`skipped ${shot.name}: no record for it in this database`);
                continue;
            }
            await chrome.send("Page.navigate", { url: args.url + shot.path(ctx) });
            await chrome.waitFor(".o_action_manager .o_view_controller", args.timeout);
            if (shot.tab) {
                const sel = `.o_notebook a.nav-link[name='${shot.tab}']`;
                await chrome.waitFor(sel, args.timeout);
                await chrome.evaluate(`document.querySelector(${JSON.stringify(sel)}).click()`);
            }
            if (shot.click) {
                await chrome.waitFor(shot.click, args.timeout);
                await chrome.evaluate(`document.querySelector(${JSON.stringify(shot.click)}).click()`);
            }
            const upload = shot.upload && shot.upload(ctx);
            if (upload) {
                await chrome.waitFor(upload.selector, args.timeout);
                const { root } = await chrome.send("DOM.getDocument", { depth: -1, pierce: true });
                const { nodeId } = await chrome.send("DOM.querySelector", { nodeId: root.nodeId, selector: upload.selector });
                await chrome.send("DOM.setFileInputFiles", { nodeId, files: [upload.file] });
            }
            const waitFor = typeof shot.waitFor === "function" ? shot.waitFor(ctx) : shot.waitFor;
            await chrome.waitFor(waitFor, args.timeout);
            await sleep(800); // let fonts, badges and the chatter settle
            const { data } = await chrome.send("Page.captureScreenshot", { format: "png" });
            const file = path.join(args.out, `${shot.name}.png`);
            fs.writeFileSync(file, Buffer.from(data, "base64"));
            console.log(`wrote ${file}`);
        }
    } finally {
        await chrome.close();
    }
}

main().catch((err) => {
    console.error(err.message || err);
    process.exit(1);
});
