import { registry } from "@web/core/registry";

/*
 * The profitability report as a seller opens it: Amazon > Reporting > Profitability, the pivot by product and
 * month, and one figure read (the margin of the mugs, from test_profit_report.py's scenario). The ``shot`` step
 * saves a screenshot when the Python test runs with BAC_SCREENSHOTS=<folder>.
 */
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const shot = (name, ready) => ({
    content: `Screenshot ${name}`,
    trigger: ready,
    async run() {
        document.querySelectorAll(".o_notification_close").forEach((button) => button.click());
        for (let i = 0; i < 100 && document.querySelector(".o_loading_indicator"); i++) {
            await pause(100);
        }
        await pause(300);
        window.bacScreenshotTaken = null;
        console.log(`bac-screenshot:${name}`);
        for (let i = 0; i < 150 && window.bacScreenshotTaken !== name; i++) {
            await pause(100);
        }
    },
});

registry.category("web_tour.tours").add("amazon_profit_report", {
    steps: () => [
        {
            content: "The pivot: products in rows",
            trigger: ".o_pivot .o_pivot_header_cell_closed:contains('Taza de cerámica')",
            timeout: 60000,
        },
        {
            content: "The margin of the mugs: 600.00 sold - 141.72 of fees - 300.00 of goods",
            trigger: ".o_pivot td:contains('158.28')",
            timeout: 60000,
        },
        shot("profit_pivot", ".o_pivot td:contains('158.28')"),
    ],
});

/*
 * The overview's card (test_profit_report.py's scenario): the last 30 days with the fees known (margin 72.28:
 * the mugs' 158.28 and the T-shirt's -86.00), its products with the lowest margin, the mugs' line opening the
 * report on the mugs only.
 */
registry.category("web_tour.tours").add("amazon_profit_overview", {
    steps: () => [
        {
            content: "The card: the margin of the last 30 days",
            trigger: ".o_amazon_profit_card:contains('72.28'):contains('Playera algodón')",
            timeout: 60000,
        },
        shot("overview_profit", ".o_amazon_profit_card:contains('72.28')"),
        {
            content: "The mugs' line of the lowest margins opens the report on them",
            trigger: ".o_amazon_profit_card a:contains('Taza de cerámica')",
            run: "click",
        },
        {
            content: "The report: the mugs only",
            trigger: ".o_pivot:has(td:contains('158.28')):not(:has(.o_pivot_header_cell_closed:contains('Playera')))",
            timeout: 60000,
        },
    ],
});
