// The map page: sign-in, layers, visualization editor, inspector, tasks, assets, share link.
// Plain ES module over the vendored Leaflet (global `L`) and ./ee.js; no build step.
import {
  ApiKeyCredentials, Client, KeyCredentials, NoCredentials, bandNames, featureAt, graph,
  pointValues, serverUrl, sourceNode, stretchRange, stretchStats, styledTable, visualized,
  withValues,
} from "./ee.js";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

const DEFAULT_VIEW = { center: [45.8, 15.95], zoom: 9 };
const RGB_GUESS = [["B4", "B3", "B2"], ["red", "green", "blue"], ["R", "G", "B"]];
const TASKS_REFRESH_MS = 5000;
const TABLE_COLOR = "3388ff";

// No fade-in: a layer's "ready" state (every tile loaded) is then also what is on screen.
const map = L.map("map", { attributionControl: false, fadeAnimation: false })
  .setView(DEFAULT_VIEW.center, DEFAULT_VIEW.zoom);
L.control.scale({ imperial: false }).addTo(map);
let client = null;
const layers = []; // index 0 is drawn on top
let nextId = 1;
let clickMarker = null;
let footprint = null;

function setStatus(text, error = false) {
  const el = $("#status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

async function guarded(what, action) {
  try {
    setStatus(`${what}…`);
    const result = await action();
    setStatus("");
    return result;
  } catch (err) {
    setStatus(`${what}: ${err.message}`, true);
    throw err;
  }
}

function bounds() {
  const b = map.getBounds();
  return { west: b.getWest(), south: b.getSouth(), east: b.getEast(), north: b.getNorth() };
}

// geemap's `get_scale`: metres per pixel of the current view at the centre's latitude.
function viewScale() {
  return (156543.04 * Math.cos((map.getCenter().lat * Math.PI) / 180)) / 2 ** map.getZoom();
}

// -- sign-in -----------------------------------------------------------------------------------

async function start() {
  const config = await (await fetch(serverUrl("map/config.json"))).json();
  $("#api-project").value = config.defaultProject;
  if (!config.authRequired) {
    signedIn(new NoCredentials(config.defaultProject), config.defaultProject, "no auth (loopback)");
  }
  $("#key-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const key = await guarded("Signing in", async () => KeyCredentials.fromKeyFile(JSON.parse(await file.text())));
    signedIn(key, key.project, key.email);
  });
  $("#api-key-use").addEventListener("click", () => {
    const project = $("#api-project").value.trim() || config.defaultProject;
    signedIn(new ApiKeyCredentials($("#api-key").value.trim(), project), project, "API key");
  });
}

function signedIn(credentials, project, who) {
  client = new Client(credentials, project);
  $("#signin").classList.add("hidden");
  $("#who").textContent = `· ${who} · ${project}`;
  document.body.dataset.signedIn = "true";
  restoreFromHash();
}

// -- layers ------------------------------------------------------------------------------------

function requireClient() {
  if (!client) throw new Error("Sign in first (a key file or an API key).");
  return client;
}

function guessBands(all) {
  for (const rgb of RGB_GUESS) if (rgb.every((b) => all.includes(b))) return rgb;
  return all.slice(0, 1);
}

// spec: {name, source, vis?, visible?, opacity?}; without `vis` the bands are guessed and the
// range is the 100% stretch of the current view.
async function addLayer(spec) {
  requireClient();
  const layer = {
    id: nextId++,
    name: spec.name || spec.source.assetId || "Expression",
    source: spec.source,
    vis: spec.vis || null,
    visible: spec.visible !== false,
    // A table is drawn filled: see-through by default, so that what lies under it shows.
    opacity: spec.opacity ?? (spec.source.kind === "table" ? 0.6 : 1),
    bands: [],
    tile: null,
  };
  [layer.node, layer.values] = sourceNode(layer.source);
  layers.unshift(layer);
  layer.el = renderLayer(layer);
  const added = guarded(`Adding ${layer.name}`, async () => {
    if (layer.source.kind !== "table") {
      layer.bands = await client.compute(withValues(bandNames(layer.node), layer.values));
      if (!layer.bands.length) throw new Error("The image has no bands.");
      if (!layer.vis) {
        // A first look: 2σ around the mean of the view, within the data's range.
        layer.vis = { bands: guessBands(layer.bands), min: 0, max: 1, gamma: 1, palette: [] };
        const stats = await viewStats(layer);
        const [lo, hi] = stretchRange(stats, "percent100") || [0, 1];
        const [a, b] = stretchRange(stats, "sigma2") || [lo, hi];
        [layer.vis.min, layer.vis.max] = [Math.max(lo, a), Math.min(hi, b)].map(round);
      }
      fillVisEditor(layer);
    }
    await draw(layer);
  });
  await added.catch((err) => {
    setLayerState(layer, "error");
    throw err;
  });
  return layer;
}

async function draw(layer) {
  const node = layer.source.kind === "table" ? styledTable(layer.node, TABLE_COLOR) : visualized(layer.node, layer.vis);
  const url = await client.createMap(withValues(node, layer.values));
  setLayerState(layer, "loading");
  if (layer.tile) {
    layer.tile.setUrl(url);
  } else {
    layer.tile = L.tileLayer(url, { maxZoom: 24, opacity: layer.opacity });
    layer.tile.on("loading", () => setLayerState(layer, "loading"));
    layer.tile.on("load", () => setLayerState(layer, "ready"));
    layer.tile.on("tileerror", () => setLayerState(layer, "error"));
    if (layer.visible) layer.tile.addTo(map);
  }
  restack();
  saveToHash();
}

function setLayerState(layer, value) {
  layer.el.dataset.state = value;
  $(".layer-state", layer.el).textContent = value === "ready" ? "" : value;
}

function restack() {
  const list = $("#layer-list");
  layers.forEach((layer, i) => {
    list.appendChild(layer.el);
    if (layer.tile) layer.tile.setZIndex(layers.length - i);
  });
}

function renderLayer(layer) {
  const el = $("#layer-template").content.firstElementChild.cloneNode(true);
  el.dataset.layerId = layer.id;
  $(".layer-name", el).textContent = layer.name;
  $(".layer-name", el).title = layer.name;
  const visible = $(".layer-visible", el);
  visible.checked = layer.visible;
  visible.addEventListener("change", () => {
    layer.visible = visible.checked;
    if (layer.tile) (layer.visible ? layer.tile.addTo(map) : layer.tile.remove());
    saveToHash();
  });
  const opacity = $(".layer-opacity", el);
  opacity.value = layer.opacity;
  opacity.addEventListener("input", () => {
    layer.opacity = Number(opacity.value);
    if (layer.tile) layer.tile.setOpacity(layer.opacity);
    saveToHash();
  });
  $(".layer-up", el).addEventListener("click", () => move(layer, -1));
  $(".layer-down", el).addEventListener("click", () => move(layer, 1));
  $(".layer-remove", el).addEventListener("click", () => {
    layers.splice(layers.indexOf(layer), 1);
    if (layer.tile) layer.tile.remove();
    el.remove();
    saveToHash();
  });
  if (layer.source.kind === "table") $(".vis", el).classList.add("hidden");
  for (const radio of $$(".vis-mode", el)) {
    radio.name = `mode-${layer.id}`;
    radio.addEventListener("change", () => showMode(el));
  }
  $(".vis-stretch", el).addEventListener("change", (event) => {
    const kind = event.target.value;
    if (kind === "custom") return;
    setLayerState(layer, "loading");
    guarded("Stretching", async () => {
      readVisEditor(layer);
      const range = await stretch(layer, kind);
      if (!range) throw new Error("No unmasked pixels in the view.");
      [layer.vis.min, layer.vis.max] = range;
      fillVisEditor(layer);
      await draw(layer);
    }).catch(() => setLayerState(layer, "error"));
  });
  $(".vis-apply", el).addEventListener("click", () => {
    setLayerState(layer, "loading");
    guarded("Applying", async () => {
      readVisEditor(layer);
      await draw(layer);
    }).catch(() => setLayerState(layer, "error"));
  });
  $("#layer-list").prepend(el);
  return el;
}

function move(layer, delta) {
  const i = layers.indexOf(layer);
  const j = i + delta;
  if (j < 0 || j >= layers.length) return;
  [layers[i], layers[j]] = [layers[j], layers[i]];
  restack();
  saveToHash();
}

function showMode(el) {
  const rgb = $(".vis-mode[value='3']", el).checked;
  for (const select of $$(".vis-band.rgb", el)) select.classList.toggle("hidden", !rgb);
  $(".one-band", el).classList.toggle("hidden", rgb);
}

function fillVisEditor(layer) {
  const el = layer.el;
  const selects = $$(".vis-band", el);
  selects.forEach((select, i) => {
    select.replaceChildren(...layer.bands.map((b) => new Option(b, b)));
    select.value = layer.vis.bands[i] ?? layer.vis.bands[0];
  });
  $(`.vis-mode[value='${layer.vis.bands.length === 3 ? 3 : 1}']`, el).checked = true;
  $(".vis-min", el).value = layer.vis.min;
  $(".vis-max", el).value = layer.vis.max;
  $(".vis-gamma", el).value = layer.vis.gamma ?? 1;
  $(".vis-palette", el).value = (layer.vis.palette || []).join(", ");
  showMode(el);
}

function readVisEditor(layer) {
  const el = layer.el;
  const rgb = $(".vis-mode[value='3']", el).checked;
  const selects = $$(".vis-band", el);
  const palette = $(".vis-palette", el).value.split(/[\s,]+/).filter(Boolean);
  layer.vis = {
    bands: (rgb ? selects : selects.slice(0, 1)).map((s) => s.value),
    min: Number($(".vis-min", el).value),
    max: Number($(".vis-max", el).value),
    gamma: Number($(".vis-gamma", el).value) || 1,
    palette: rgb ? [] : palette,
  };
}

// The layer editor's statistics of the current view, computed server-side (value:compute).
function viewStats(layer) {
  return client.compute(withValues(stretchStats(layer.node, layer.vis.bands, bounds()), layer.values));
}

// [min, max] of a stretch ("sigma2", "percent98", ...) over the current view.
async function stretch(layer, kind) {
  const range = stretchRange(await viewStats(layer), kind);
  return range && range.map(round);
}

const round = (value) => Number(value.toPrecision(6));

// -- add-layer form --------------------------------------------------------------------------

function showKind() {
  const kind = $("#add-kind").value;
  for (const el of $$(".when-asset")) el.classList.toggle("hidden", kind === "expression");
  for (const el of $$(".when-collection")) el.classList.toggle("hidden", kind !== "collection");
  for (const el of $$(".when-expression")) el.classList.toggle("hidden", kind !== "expression");
}

function sourceFromForm() {
  const kind = $("#add-kind").value;
  if (kind === "expression") return { kind, expression: JSON.parse($("#add-expression").value) };
  const source = { kind, assetId: $("#add-asset").value.trim() };
  if (kind === "collection") {
    Object.assign(source, { start: $("#add-start").value, end: $("#add-end").value, reducer: $("#add-reducer").value });
  }
  return source;
}

$("#add-kind").addEventListener("change", showKind);
$("#add-expression-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (file) $("#add-expression").value = await file.text();
});
$("#add-button").addEventListener("click", () => {
  let source;
  try {
    requireClient();
    source = sourceFromForm();
  } catch (err) {
    setStatus(err.message, true);
    return;
  }
  const reducer = source.kind === "collection" ? ` ${source.reducer}` : "";
  addLayer({ name: $("#add-name").value.trim() || `${source.assetId || "Expression"}${reducer}`, source }).catch(() => {});
});
showKind();

// -- inspector ---------------------------------------------------------------------------------

map.on("click", (event) => inspect(event.latlng.lng, event.latlng.lat).catch(() => {}));

async function inspect(lon, lat) {
  if (!client) return;
  $("#inspector").open = true;
  if (clickMarker) clickMarker.remove();
  clickMarker = L.circleMarker([lat, lon], { radius: 5, color: "#000", weight: 2 }).addTo(map);
  const scale = viewScale();
  const out = $("#inspector-out");
  out.replaceChildren();
  out.dataset.state = "loading";
  const head = document.createElement("table");
  head.className = "point";
  head.innerHTML = "<tr><td>Longitude</td><td class='lon'></td></tr><tr><td>Latitude</td><td class='lat'></td></tr>"
    + "<tr><td>Zoom</td><td class='zoom'></td></tr><tr><td>Scale (m/px)</td><td class='scale'></td></tr>";
  $(".lon", head).textContent = lon.toFixed(6);
  $(".lat", head).textContent = lat.toFixed(6);
  $(".zoom", head).textContent = map.getZoom();
  $(".scale", head).textContent = scale.toFixed(2);
  out.dataset.lon = lon;
  out.dataset.lat = lat;
  out.dataset.scale = scale;
  out.appendChild(head);
  await guarded("Inspecting", async () => {
    const queries = layers.filter((l) => l.visible && l.tile).map(async (layer) => {
      const node = layer.source.kind === "table" ? featureAt(layer.node, lon, lat) : pointValues(layer.node, lon, lat, scale);
      const value = await client.compute(withValues(node, layer.values));
      return [layer, layer.source.kind === "table" ? value && value.properties : value];
    });
    for (const [layer, values] of await Promise.all(queries)) out.appendChild(valuesTable(layer, values));
  });
  out.dataset.state = "ready";
}

function valuesTable(layer, values) {
  const table = document.createElement("table");
  table.className = "layer-values";
  table.dataset.layerId = layer.id;
  const caption = table.createCaption();
  caption.textContent = layer.name;
  for (const [key, value] of Object.entries(values || {}).sort()) {
    const row = table.insertRow();
    row.dataset.band = key;
    row.insertCell().textContent = key;
    const cell = row.insertCell();
    cell.className = "value";
    cell.textContent = value === null ? "masked" : typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  if (!values || !Object.keys(values).length) table.insertRow().insertCell().textContent = "(nothing here)";
  return table;
}

// -- tasks -------------------------------------------------------------------------------------

let tasksTimer = null;

async function refreshTasks() {
  if (!client) return;
  const answer = await client.listOperations();
  const body = $("#tasks-table tbody");
  body.replaceChildren();
  for (const op of answer.operations || []) {
    const meta = op.metadata || {};
    const row = body.insertRow();
    row.dataset.name = op.name;
    row.insertCell().textContent = meta.description || meta.type || op.name.split("/").pop();
    row.insertCell().textContent = meta.state || (op.done ? "DONE" : "");
    row.insertCell().textContent = meta.progress !== undefined ? `${Math.round(meta.progress * 100)}%` : "";
    const cell = row.insertCell();
    if (!op.done) {
      const cancel = document.createElement("button");
      cancel.textContent = "Cancel";
      cancel.addEventListener("click", () => guarded("Cancelling", async () => {
        await client.cancelOperation(op.name);
        await refreshTasks();
      }));
      cell.appendChild(cancel);
    }
  }
  if (!body.rows.length) body.insertRow().insertCell().textContent = "No tasks.";
  $("#tasks").dataset.loaded = "true";
}

$("#tasks").addEventListener("toggle", () => {
  clearInterval(tasksTimer);
  if (!$("#tasks").open) return;
  guarded("Listing tasks", refreshTasks).catch(() => {});
  tasksTimer = setInterval(() => refreshTasks().catch(() => {}), TASKS_REFRESH_MS);
});
$("#tasks-refresh").addEventListener("click", () => guarded("Listing tasks", refreshTasks).catch(() => {}));

// -- assets ------------------------------------------------------------------------------------

async function listInto(parentName, ul, type) {
  const answer = type === "IMAGE_COLLECTION" ? await client.listImages(parentName) : await client.listAssets(parentName);
  ul.replaceChildren();
  for (const asset of answer.assets || answer.images || []) ul.appendChild(assetNode(asset));
  if (!ul.children.length) ul.appendChild(Object.assign(document.createElement("li"), { textContent: "(empty)" }));
}

function assetNode(asset) {
  const li = document.createElement("li");
  const label = document.createElement("span");
  label.textContent = `${asset.id.split("/").pop()} (${asset.type.toLowerCase().replace("_", " ")})`;
  label.title = asset.id;
  li.appendChild(label);
  const kind = { IMAGE: "image", IMAGE_COLLECTION: "collection", TABLE: "table" }[asset.type];
  if (kind) {
    const add = document.createElement("button");
    add.textContent = "Add";
    add.addEventListener("click", () => {
      const source = { kind, assetId: asset.id };
      if (kind === "collection") Object.assign(source, { start: $("#add-start").value, end: $("#add-end").value, reducer: $("#add-reducer").value });
      addLayer({ name: asset.id, source }).catch(() => {});
    });
    li.appendChild(add);
  }
  let children = null;
  label.addEventListener("click", () => guarded("Reading asset", async () => {
    const details = await client.getAsset(asset.name);
    showAsset(details);
    if (asset.type === "FOLDER" || asset.type === "IMAGE_COLLECTION") {
      if (children) {
        children.remove();
        children = null;
        return;
      }
      children = document.createElement("ul");
      children.className = "tree";
      li.appendChild(children);
      await listInto(asset.name, children, asset.type);
    }
  }).catch(() => {}));
  return li;
}

function showAsset(details) {
  const { geometry, ...rest } = details;
  $("#asset-details").textContent = JSON.stringify(rest, null, 1);
  if (footprint) footprint.remove();
  footprint = null;
  if (geometry) {
    footprint = L.geoJSON(geometry, { style: { color: "#e6550d", weight: 2, fill: false } }).addTo(map);
    map.fitBounds(footprint.getBounds(), { maxZoom: 12 });
  }
}

$("#assets-list").addEventListener("click", () => guarded("Listing assets", async () => {
  requireClient();
  await listInto($("#assets-root").value.trim(), $("#assets-tree"), "FOLDER");
}).catch(() => {}));

// -- share link ----------------------------------------------------------------------------------

function encodeState() {
  const c = map.getCenter();
  const state = {
    v: 1,
    c: [Number(c.lat.toFixed(6)), Number(c.lng.toFixed(6))],
    z: map.getZoom(),
    l: layers.map((l) => ({ name: l.name, source: l.source, vis: l.vis, visible: l.visible, opacity: l.opacity })),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(state));
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeState(hash) {
  const raw = atob(hash.replace(/-/g, "+").replace(/_/g, "/"));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(raw, (ch) => ch.charCodeAt(0))));
}

let restoring = false;

function saveToHash() {
  if (restoring) return;
  const link = `${location.origin}${location.pathname}#s=${encodeState()}`;
  history.replaceState(null, "", link);
  $("#share-link").value = link;
}

async function restoreFromHash() {
  const match = location.hash.match(/^#s=([A-Za-z0-9_-]+)$/);
  if (!match) return;
  let state;
  try {
    state = decodeState(match[1]);
  } catch {
    setStatus("The link's map state cannot be read.", true);
    return;
  }
  restoring = true;
  try {
    map.setView(state.c, state.z);
    for (const spec of [...(state.l || [])].reverse()) await addLayer(spec).catch(() => {});
  } finally {
    restoring = false;
  }
  saveToHash();
}

map.on("moveend", saveToHash);
$("#share-copy").addEventListener("click", () => {
  saveToHash();
  navigator.clipboard?.writeText($("#share-link").value).catch(() => {});
});

// For the browser test and the console: the page's state.
window.openeeMap = { map, layers, addLayer, inspect, graph };

start().catch((err) => setStatus(`Starting: ${err.message}`, true));
