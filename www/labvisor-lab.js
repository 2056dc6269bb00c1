// <labvisor-lab lesson="nat" exercise="1" lang="ko"></labvisor-lab>
//
// One Labvisor lab inside any page: import this module once, then use the element. Each lab
// renders in its own shadow root with Labvisor's stylesheet, so the host page's CSS and the
// lab's never mix. Attributes: lesson, exercise (1-based), tool (ipv4, ports, sizing,
// hypervisors), lang (en or ko). `mount(element, options)` is exported for pages that
// manage their own DOM.
import init, { mount as mountWasm } from './pkg/labvisor_web.js';

const base = new URL('./', import.meta.url);
if (!window.LABVISOR_BASE) window.LABVISOR_BASE = new URL('index.html', base).href;
let ready = null;
function load() {
  if (!ready) ready = init({ module_or_path: new URL('pkg/labvisor_web_bg.wasm', base) });
  return ready;
}

/** Mounts a lab into `element`; resolves to a handle with `unmount()`. */
export async function mount(element, options = {}) {
  await load();
  // In the light DOM the lab needs the stylesheet on the page (every rule is scoped to .lv-*).
  if (element.getRootNode() === document && !document.querySelector('link[data-labvisor]')) {
    const style = document.createElement('link');
    style.rel = 'stylesheet';
    style.href = new URL('styles.css', base).href;
    style.dataset.labvisor = '';
    document.head.append(style);
  }
  return mountWasm(element, options);
}

class LabvisorLab extends HTMLElement {
  static get observedAttributes() { return ['lesson', 'exercise', 'tool', 'lang']; }

  connectedCallback() { this.#render(); }
  disconnectedCallback() { this.#unmount(); }
  attributeChangedCallback() { if (this.isConnected) this.#render(); }

  async #render() {
    const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
    this.#unmount();
    root.innerHTML = '';
    const style = document.createElement('link');
    style.rel = 'stylesheet';
    style.href = new URL('styles.css', base).href;
    const host = document.createElement('div');
    host.className = 'lv-embed-root';
    root.append(style, host);
    const options = {};
    for (const name of LabvisorLab.observedAttributes) {
      const value = this.getAttribute(name);
      if (value !== null) options[name] = value;
    }
    const ticket = (this.ticket = {});
    const handle = await mount(host, options);
    if (this.ticket === ticket) this.handle = handle; else handle.unmount();
  }

  #unmount() {
    this.ticket = null;
    if (this.handle) { this.handle.unmount(); this.handle = null; }
  }
}

if (!customElements.get('labvisor-lab')) customElements.define('labvisor-lab', LabvisorLab);
