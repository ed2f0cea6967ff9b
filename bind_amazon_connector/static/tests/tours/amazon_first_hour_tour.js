import { registry } from "@web/core/registry";

/*
 * A new seller's first hour, as a person clicks it: the company's Integrations tab, a new connection,
 * Amazon's consent page (the simulator's, which sends the browser back to Odoo), the settings, the listings
 * import, mapping the listing nothing matched, the order that waited for it, the payouts' settlement, the order's
 * invoice, the Overview and the sales analysis. Data and addresses come from the Python test (test_first_hour_tour.py).
 * The ``shot`` steps save README's screenshots (make screenshots).
 */
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/*
 * A screenshot for README once ``ready`` (a selector of the content it shows) is on the page and nothing is
 * loading any more. The Python test takes it when it reads the console line and answers by setting
 * ``window.bacScreenshotTaken``: the tour goes on only then, so the next step cannot change the page first.
 * Notifications are closed first.
 */
const shot = (name, ready) => ({
    content: `Screenshot ${name}`,
    trigger: ready,
    async run() {
        // a notification of the previous step would hide the right of the screen
        document.querySelectorAll(".o_notification_close").forEach((button) => button.click());
        for (let i = 0; i < 100 && document.querySelector(".o_loading_indicator"); i++) {
            await pause(100);
        }
        await pause(300); // let the last rendering and animations settle
        window.bacScreenshotTaken = null;
        console.log(`bac-screenshot:${name}`);
        for (let i = 0; i < 150 && window.bacScreenshotTaken !== name; i++) {
            await pause(100);
        }
    },
});

// Shared test machines can be slow to render a screen: each step waits up to the tour framework's maximum.
const patient = (steps) => steps.map((step) => ({ timeout: 60000, ...step }));

registry.category("web_tour.tours").add("amazon_first_hour", {
    steps: () => patient([
        {
            content: "Open the company's Integrations tab",
            trigger: ".o_notebook_headers a[name='integrations']",
            run: "click",
        },
        shot("integraciones", ".o_notebook .o_field_widget[name='amazon_account_ids'] .o_data_row"),
        {
            content: "Add an Amazon connection",
            trigger: ".o_notebook button[name='action_amazon_add_connection']",
            run: "click",
        },
        {
            content: "The new connection explains step 1",
            trigger: ".o_form_view .alert-info strong",
        },
        shot("connection_authorize", ".o_form_view button[name='action_authorize']"),
        {
            content: "Authorize: Odoo sends the browser to Amazon's consent page, which comes back",
            trigger: ".o_form_view button[name='action_authorize']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back from Amazon: authorized, step 2",
            trigger: ".o_form_view .alert-success strong",
        },
        {
            trigger: ".o_field_widget[name='state'] .text-bg-success",
        },
        {
            content: "Create the missing price list and FBA warehouse",
            trigger: ".o_form_view button[name='action_create_missing_settings']",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='fba_warehouse_id'] input:value(Amazon FBA)",
        },
        {
            content: "Choose the account receiving the payments (a bank or cash journal)",
            trigger: ".o_field_widget[name='journal_id'] input",
            run: "click",
        },
        {
            // the first proposal once loaded (while searching, the first item is a loading placeholder)
            trigger: ".o-autocomplete--dropdown-menu .o-autocomplete--dropdown-item:first-child a:not(.o_loading)",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Configured: the step 2 banner is gone",
            trigger: ".o_form_view:not(:has(.alert-success)) .o_notebook_headers a[name='listings']",
        },
        shot("connection_form", ".o_form_view:not(:has(.alert-success)) .o_form_saved"),
        {
            content: "Open the Listings tab",
            trigger: ".o_notebook_headers a[name='listings']",
            run: "click",
        },
        {
            content: "Import listings",
            trigger: ".o_notebook button[name='action_import_listings']",
            run: "click",
        },
        {
            content: "One listing matches no product",
            trigger: ".o_form_view button[name='action_view_listings'] .o_stat_value:contains('2')",
        },
        {
            content: "Open the Sales tab",
            trigger: ".o_notebook_headers a[name='sales']",
            run: "click",
        },
        {
            content: "Sync orders now",
            trigger: ".o_notebook button[name='action_sync_orders']",
            run: "click",
        },
        {
            content: "One order read (the form reloads after the sync)",
            trigger: ".o_form_view button[name='action_view_amazon_orders'] .o_stat_value:contains('1')",
        },
        {
            trigger: ".o_notebook_headers a[name='sales']",
            run: "click",
        },
        {
            content: "The order of the unmapped listing waits in error",
            trigger: ".o_notebook .o_data_row .text-bg-danger",
        },
        {
            content: "Open the listings",
            trigger: ".o_form_view button[name='action_view_listings']",
            run: "click",
        },
        shot("listings", ".o_view_controller.o_list_view .o_data_row:contains('CAP-03')"),
        {
            content: "Edit the unmapped listing in the list (its Amazon title had HTML; the name is plain)",
            trigger: ".o_view_controller.o_list_view .o_data_row:contains('Gorra charro bordada a mano'):contains('CAP-03') td.o_data_cell",
            run: "click",
        },
        {
            content: "Map it to the product",
            trigger: ".o_data_row.o_selected_row .o_field_widget[name='product_id'] input",
            run: "edit Gorra",
        },
        {
            trigger: ".o-autocomplete--dropdown-menu .o-autocomplete--dropdown-item a:contains('Gorra de charro')",
            run: "click",
        },
        {
            content: "Save the mapping: the orders job is asked to retry the orders waiting for this SKU",
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            trigger: ".o_control_panel:not(:has(.o_list_button_save))",
        },
        {
            trigger: ".o_view_controller.o_list_view .o_data_row:contains('CAP-03') .text-bg-success",
        },
        {
            content: "Back to the connection",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Amazon M')",
            run: "click",
        },
        {
            trigger: ".o_notebook_headers a[name='sales']",
            run: "click",
        },
        {
            content: "The orders job retries the order its mapped listing unblocked (a cron worker runs it within "
                + "seconds; here the seller does not wait: Sync orders now)",
            trigger: ".o_notebook button[name='action_sync_orders']",
            run: "click",
        },
        {
            content: "Imported",
            trigger: ".o_notebook .o_data_row .text-bg-success",
        },
        {
            trigger: ".o_notebook_headers a[name='finance']",
            run: "click",
        },
        {
            content: "Synchronize payouts: Amazon's transactions of the period are read and booked",
            trigger: ".o_notebook button[name='action_sync_finances']",
            run: "click",
        },
        {
            trigger: ".o_notebook button[name='action_view_settlements'] .o_field_widget[name='settlement_count']:contains('1')",
        },
        {
            trigger: ".o_notebook button[name='action_view_settlements']",
            run: "click",
        },
        shot("settlements", ".o_view_controller.o_list_view .o_data_row .o_field_badge"),
        {
            content: "Back to the connection",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Amazon M')",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name='action_view_amazon_orders']",
            run: "click",
        },
        shot("orders", ".o_view_controller.o_list_view .o_data_row .text-bg-success"),
        {
            content: "Open the order, imported once its listing was mapped",
            trigger: ".o_view_controller.o_list_view .o_data_row:has(.text-bg-success) td.o_data_cell",
            run: "click",
        },
        {
            content: "Open the invoice",
            trigger: ".o_form_view button[name='action_view_invoices']",
            run: "click",
        },
        {
            content: "The invoice is posted",
            trigger: ".o_form_view .o_statusbar_status button[data-value='posted'].o_arrow_button_current",
        },
        {
            content: "The Amazon menu's first screen: one card per connection",
            trigger: "body",
            run() {
                window.location.href = "/odoo/amazon";
            },
            expectUnloadPage: true,
        },
        shot("overview", ".o_kanban_record:contains('Amazon M') a[name='action_view_orders_today']"),
        {
            content: "Amazon sales by day, marketplace and channel",
            trigger: "body",
            run() {
                window.location.href = "/odoo/amazon-sales";
            },
            expectUnloadPage: true,
        },
        shot("sales_analysis", ".o_graph_view .o_graph_renderer canvas"),
    ]),
});
