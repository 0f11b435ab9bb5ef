// creditgate's drop-in widgets: web components for an app's own pages.
//
//   <script src="https://credits.example/widgets.js" defer></script>
//   <creditgate-balance token="cgw.…"></creditgate-balance>
//   <creditgate-cost token="cgw.…" feature="image.generate" model="flux-pro"></creditgate-cost>
//   <creditgate-model-picker token="cgw.…" feature="image.generate" name="model"></creditgate-model-picker>
//   <creditgate-packs token="cgw.…"></creditgate-packs>
//
// The token is a widget token the app's back end minted (POST /v1/widget-tokens): it reads
// one account, expires within minutes, and can start a checkout. Never put an API key here.
// A widget whose token is refused shows nothing and fires `creditgate:unauthorized` (with
// the problem's `code`, `token_expired` when it only ran out), so the page can mint a new
// token and set the attribute again. Every figure is written as text
// (never as HTML), so a name from the catalog cannot run in the page.

// The service is where this script came from (its folder, so a service behind a path
// prefix works too), unless a widget's `api` attribute or `configure({api})` says otherwise.
const SCRIPT_BASE = document.currentScript ? new URL(".", document.currentScript.src).href : "";
const defaults = { token: null, api: null };

const STYLE = `
  :host { font: inherit; color: inherit; display: inline-block; max-width: 100%; }
  :host([hidden]) { display: none; }
  [part~="figure"] { font-variant-numeric: tabular-nums; font-weight: 600; }
  :host([level="low"]) [part~="figure"], :host([state="low"]) [part~="amount"]
    { color: var(--creditgate-low, #b45309); }
  :host([level="depleted"]) [part~="figure"], :host([state="insufficient"]) [part~="amount"]
    { color: var(--creditgate-depleted, #b91c1c); }
  dl { display: grid; grid-template-columns: auto auto; gap: .15rem .75rem; margin: 0; }
  dd { margin: 0; }
  select, button { font: inherit; padding: .35rem .5rem; max-width: 100%; }
  dialog { max-width: min(32rem, calc(100vw - 2rem)); border: 1px solid #ccc; border-radius: .5rem; }
  ul { list-style: none; margin: 0 0 .75rem; padding: 0; display: grid; gap: .5rem; }
  li button { width: 100%; text-align: left; display: grid; gap: .1rem; }
  [part~="badge"] { font-size: .8em; text-transform: uppercase; color: var(--creditgate-badge, #1d4ed8); }
  label { display: block; }
  [role="alert"] { color: var(--creditgate-depleted, #b91c1c); }
`;

/** Set the token and service address every widget on the page uses by default. */
function configure({ token, api } = {}) {
  if (token !== undefined) defaults.token = token;
  if (api !== undefined) defaults.api = api;
  for (const element of document.querySelectorAll(Object.keys(ELEMENTS).join(","))) {
    element.refresh();
  }
}

/** Ask every widget on the page to read its figures again (after a charge, say). */
function refresh() {
  configure({});
}

function el(tag, attributes = {}, text = undefined) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function credits(amount) {
  return `${amount} ${amount === "1" ? "credit" : "credits"}`;
}

function money(minor, currency) {
  const format = new Intl.NumberFormat(undefined, { style: "currency", currency });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(minor / 10 ** digits);
}

class Refused extends Error {
  constructor(status, problem) {
    super(problem?.detail || `the service answered ${status}`);
    this.status = status;
    this.code = problem?.code;
  }
}

class CreditgateElement extends HTMLElement {
  static get observedAttributes() {
    return ["token", "api", ...this.watched];
  }

  static watched = [];

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
    this.generation = 0;
    this.pending = false;
  }

  connectedCallback() {
    this.schedule();
  }

  attributeChangedCallback(_name, before, after) {
    if (before !== after) this.schedule();
  }

  /** One read per turn, however many attributes changed in it (an upgrade sets them all). */
  schedule() {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      if (this.isConnected) this.refresh();
    });
  }

  get token() {
    return this.getAttribute("token") || defaults.token;
  }

  get api() {
    return (this.getAttribute("api") || defaults.api || SCRIPT_BASE).replace(/\/$/, "");
  }

  async call(path, init = {}) {
    const response = await fetch(`${this.api}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${this.token}`, ...(init.headers || {}) },
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Refused(response.status, body);
    return body;
  }

  /** Read the figures again and draw them; a refused token draws nothing. */
  async refresh() {
    const generation = ++this.generation;
    if (!this.token) return this.blank("no-token");
    try {
      const data = await this.load();
      if (generation !== this.generation) return;
      this.setAttribute("status", "ready");
      this.root.replaceChildren(el("style", {}, STYLE), ...this.draw(data));
    } catch (error) {
      if (generation !== this.generation) return;
      const refused = error instanceof Refused && [401, 403, 404].includes(error.status);
      this.blank(refused ? "unauthorized" : "error");
      if (refused) {
        this.dispatchEvent(
          new CustomEvent("creditgate:unauthorized", {
            bubbles: true,
            composed: true,
            // `token_expired`: mint a new token and set it; anything else is a wrong token.
            detail: { status: error.status, code: error.code, message: error.message },
          }),
        );
      }
    }
  }

  blank(status) {
    this.setAttribute("status", status);
    for (const name of ["level", "state"]) this.removeAttribute(name);
    this.root.replaceChildren();
  }
}

/** `<creditgate-balance variant="compact|full">`: the account's credits, coloured when low. */
class BalanceElement extends CreditgateElement {
  static watched = ["variant"];

  load() {
    return this.call("/v1/widget/balance");
  }

  draw(balance) {
    this.setAttribute("level", balance.level);
    if (this.getAttribute("variant") !== "full") {
      const line = el("span", { part: "balance", "aria-live": "polite" });
      line.append(el("span", { part: "figure available" }, balance.available), " credits");
      return [line];
    }
    const list = el("dl", { part: "balance", "aria-live": "polite" });
    for (const [label, value, part] of [
      ["Available", balance.available, "figure available"],
      ["Held", balance.held, "held"],
      ["Balance", balance.balance, "total"],
    ]) {
      list.append(el("dt", {}, label), el("dd", { part }, credits(value)));
    }
    return [list];
  }
}

const STATES = {
  sufficient: "",
  low: "Your balance will be low after this.",
  insufficient: "Not enough credits.",
  guest: "Sign in to use your credits.",
};

/** `<creditgate-cost feature model quantity>`: what one use costs the person now. */
class CostElement extends CreditgateElement {
  static watched = ["feature", "model", "quantity"];

  load() {
    const query = new URLSearchParams({ feature: this.getAttribute("feature") || "" });
    if (this.getAttribute("model")) query.append("models", this.getAttribute("model"));
    if (this.getAttribute("quantity")) query.set("quantity", this.getAttribute("quantity"));
    return this.call(`/v1/widget/costs?${query}`);
  }

  draw(costs) {
    const option = costs.options[0];
    this.setAttribute("state", option.state);
    const line = el("span", { part: "cost", "aria-live": "polite" });
    line.append(el("span", { part: "figure amount" }, credits(option.amount)));
    if (STATES[option.state]) line.append(" ", el("span", { part: "note" }, STATES[option.state]));
    return [line];
  }
}

/** `<creditgate-model-picker feature name label>`: a select that disables what is unaffordable. */
class ModelPickerElement extends CreditgateElement {
  static formAssociated = true;
  static watched = ["feature", "label", "quantity"];

  constructor() {
    super();
    this.internals = this.attachInternals();
    this.selected = null;
  }

  get value() {
    return this.selected;
  }

  load() {
    const query = new URLSearchParams({ feature: this.getAttribute("feature") || "" });
    if (this.getAttribute("quantity")) query.set("quantity", this.getAttribute("quantity"));
    return this.call(`/v1/widget/costs?${query}`);
  }

  draw(costs) {
    const label = el("label", { for: "model", part: "label" }, this.getAttribute("label") || "Model");
    const select = el("select", { id: "model", part: "select" });
    const wanted = this.getAttribute("value");
    for (const option of costs.options) {
      const value = option.model ?? "";
      const name = option.model ?? "Default";
      const note = option.state === "insufficient" ? " (not enough credits)" : "";
      const item = el("option", { value, "data-state": option.state }, `${name} · ${credits(option.amount)}${note}`);
      item.disabled = option.state === "insufficient";
      select.append(item);
    }
    const usable = [...select.options].filter((o) => !o.disabled);
    const chosen = usable.find((o) => o.value === wanted) || usable[0];
    select.value = chosen ? chosen.value : "";
    if (!chosen) select.selectedIndex = -1;
    this.choose(chosen ? chosen.value : null);
    select.addEventListener("change", () => {
      this.choose(select.value);
      this.dispatchEvent(new Event("change", { bubbles: true, composed: true }));
    });
    // A block that a phone's width can squeeze: the select takes what the line gives.
    const fit = el("style", {}, ":host { display: block; max-width: 24rem; } select { width: 100%; }");
    return [fit, label, select];
  }

  choose(value) {
    this.selected = value;
    this.internals.setFormValue(value);
  }
}

/** `<creditgate-packs label>`: a button that opens the packs for sale and starts a checkout. */
class PacksElement extends CreditgateElement {
  static watched = ["label"];

  async load() {
    return this.call("/v1/widget/packs");
  }

  draw(packs) {
    const open = el("button", { type: "button", part: "open" }, this.getAttribute("label") || "Buy credits");
    const dialog = el("dialog", { part: "dialog", "aria-labelledby": "title" });
    const close = el("button", { type: "button", part: "close" }, "Close");
    const message = el("p", { role: "alert", part: "error" });
    const list = el("ul", { part: "packs" });
    for (const pack of packs) {
      const credited = pack.bonus_credits === "0" ? credits(pack.credits) : `${credits(pack.credits)} + ${pack.bonus_credits} bonus`;
      const button = el("button", { type: "button", part: "pack", "data-pack": pack.key });
      button.append(el("strong", {}, pack.name), el("span", {}, `${credited} · ${money(pack.price_minor, pack.currency)}`));
      if (pack.badge) button.append(el("span", { part: "badge" }, pack.badge));
      button.addEventListener("click", () => this.buy(pack.key, message));
      const item = el("li");
      item.append(button);
      list.append(item);
    }
    dialog.append(el("h2", { id: "title" }, "Buy credits"), list, message, close);
    open.addEventListener("click", () => dialog.showModal());
    close.addEventListener("click", () => dialog.close());
    return [open, dialog];
  }

  async buy(pack, message) {
    message.textContent = "";
    try {
      const checkout = await this.call("/v1/widget/checkout", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ pack }),
      });
      const go = this.dispatchEvent(
        new CustomEvent("creditgate:checkout", {
          bubbles: true,
          composed: true,
          cancelable: true,
          detail: checkout,
        }),
      );
      if (go) window.location.assign(checkout.url);
    } catch (error) {
      message.textContent = error.message;
    }
  }
}

const ELEMENTS = {
  "creditgate-balance": BalanceElement,
  "creditgate-cost": CostElement,
  "creditgate-model-picker": ModelPickerElement,
  "creditgate-packs": PacksElement,
};

for (const [name, element] of Object.entries(ELEMENTS)) {
  if (!customElements.get(name)) customElements.define(name, element);
}

window.CreditgateWidgets = { configure, refresh };
