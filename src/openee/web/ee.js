// The page's side of Earth Engine's REST API: credentials, requests and Expression graphs.
// Plain ES module, no dependencies. The graphs are the ones the stock Python client serializes
// (checked in tests/e2e/test_e2e_map_page.py), so the server sees exactly what `ee` would send.

// google-auth signs every assertion for this audience, whatever the key file says; openee
// accepts it besides its own token URL.
const TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token";
const SCOPES = [
  "https://www.googleapis.com/auth/earthengine",
  "https://www.googleapis.com/auth/cloud-platform",
].join(" ");
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
// Ask for a new token this long before the current one expires.
const REFRESH_MARGIN_S = 60;

// The server's URL for `path` (`token`, `v1/projects/...`), relative to the page (served at
// `{root}/map`): the page works at the origin's root and under a reverse proxy's path prefix.
export function serverUrl(path) {
  return new URL(path, document.baseURI);
}

function base64url(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function utf8(text) {
  return new TextEncoder().encode(text);
}

function pemToDer(pem) {
  const body = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, "").replace(/\s+/g, "");
  const raw = atob(body);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out.buffer;
}

// Credentials from a service-account key file: the JWT-bearer grant (RFC 7523), signed here with
// WebCrypto (RS256 = RSASSA-PKCS1-v1_5 with SHA-256), exchanged at this server's POST /token.
// The private key is imported as non-extractable and kept in memory only.
export class KeyCredentials {
  static async fromKeyFile(key) {
    if (!key || !key.private_key || !key.client_email || !key.private_key_id) {
      throw new Error("Not a service-account key file (private_key, client_email, private_key_id).");
    }
    if (!globalThis.crypto || !crypto.subtle) {
      throw new Error("WebCrypto is only available on https:// or http://localhost pages; use an API key.");
    }
    const signer = await crypto.subtle.importKey(
      "pkcs8",
      pemToDer(key.private_key),
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const creds = new KeyCredentials(key, signer);
    await creds.refresh();
    return creds;
  }

  constructor(key, signer) {
    this.email = key.client_email;
    this.project = key.project_id;
    this.kid = key.private_key_id;
    this.signer = signer;
    this.token = null;
    this.expiresAt = 0;
  }

  async assertion() {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "RS256", typ: "JWT", kid: this.kid };
    const claims = { iss: this.email, scope: SCOPES, aud: TOKEN_AUDIENCE, iat: now, exp: now + 3600 };
    const unsigned = `${base64url(utf8(JSON.stringify(header)))}.${base64url(utf8(JSON.stringify(claims)))}`;
    const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", this.signer, utf8(unsigned));
    return `${unsigned}.${base64url(signature)}`;
  }

  async refresh() {
    const body = new URLSearchParams({ grant_type: JWT_BEARER, assertion: await this.assertion() });
    const response = await fetch(serverUrl("token"), { method: "POST", body });
    const answer = await response.json();
    if (!response.ok) throw new Error(`Token refused: ${answer.error_description || answer.error}`);
    this.token = answer.access_token;
    this.expiresAt = Date.now() / 1000 + answer.expires_in;
  }

  async authorize(url, headers) {
    if (Date.now() / 1000 > this.expiresAt - REFRESH_MARGIN_S) await this.refresh();
    headers.Authorization = `Bearer ${this.token}`;
    return url;
  }

  tileQuery() {
    return "";
  }
}

// An API key (`openee api-keys create`): sent as `?key=` on every call and on tile URLs, as the
// stock client does with `cloud_api_key`. It reads and computes; it cannot cancel tasks.
export class ApiKeyCredentials {
  constructor(key, project) {
    this.key = key;
    this.project = project;
  }

  async authorize(url) {
    url.searchParams.set("key", this.key);
    return url;
  }

  tileQuery() {
    return `?key=${encodeURIComponent(this.key)}`;
  }
}

// A server started with --no-auth (loopback only): nothing to send.
export class NoCredentials {
  constructor(project) {
    this.project = project;
  }

  async authorize(url) {
    return url;
  }

  tileQuery() {
    return "";
  }
}

export class ApiError extends Error {}

// Calls to one project of this server's API.
export class Client {
  constructor(credentials, project) {
    this.credentials = credentials;
    this.project = project;
  }

  async call(method, path, body) {
    const headers = {};
    const url = await this.credentials.authorize(serverUrl(`v1/${path}`), headers);
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    const text = await response.text();
    const answer = text ? JSON.parse(text) : {};
    if (!response.ok) throw new ApiError(answer.error ? answer.error.message : response.statusText);
    return answer;
  }

  // value:compute: the value of an Expression graph.
  async compute(expression) {
    const answer = await this.call("POST", `projects/${this.project}/value:compute`, { expression });
    return answer.result;
  }

  // maps.create, as `ee.data.getMapId` sends it; returns the tile URL template.
  async createMap(expression) {
    const body = { expression, fileFormat: "AUTO_JPEG_PNG", bandIds: [] };
    const answer = await this.call("POST", `projects/${this.project}/maps`, body);
    return `${serverUrl(`v1/${answer.name}`).href}/tiles/{z}/{x}/{y}${this.credentials.tileQuery()}`;
  }

  listOperations() {
    return this.call("GET", `projects/${this.project}/operations`);
  }

  cancelOperation(name) {
    return this.call("POST", `${name}:cancel`, {});
  }

  // `parent` is `projects/P` (the project's root) or an asset name `projects/P/assets/...`.
  listAssets(parent) {
    return this.call("GET", `${parent}:listAssets`);
  }

  listImages(parent) {
    return this.call("GET", `${parent}:listImages?pageSize=100`);
  }

  getAsset(name) {
    return this.call("GET", name);
  }
}

// -- Expression graphs -------------------------------------------------------------------------

const constant = (value) => ({ constantValue: value });

export function invoke(functionName, args) {
  const argumentsOut = {};
  for (const [name, value] of Object.entries(args)) {
    if (value === undefined || value === null) continue;
    argumentsOut[name] = value && typeof value === "object" && !Array.isArray(value) && isNode(value)
      ? value
      : constant(value);
  }
  return { functionInvocationValue: { functionName, arguments: argumentsOut } };
}

function isNode(value) {
  return "functionInvocationValue" in value || "constantValue" in value || "valueReference" in value
    || "arrayValue" in value || "dictionaryValue" in value || "argumentReference" in value
    || "functionDefinitionValue" in value;
}

export function graph(node) {
  return { result: "0", values: { 0: node } };
}

// A node from a pasted graph ({result, values}): its values are renamed apart ("p0", ...) so that
// the node can be used inside another graph; returns [node, values].
export function embed(pasted, prefix) {
  if (!pasted || typeof pasted.result !== "string" || typeof pasted.values !== "object") {
    throw new Error("An Expression is a JSON object with 'result' and 'values'.");
  }
  const rename = (value) => {
    if (Array.isArray(value)) return value.map(rename);
    if (value && typeof value === "object") {
      const out = {};
      for (const [k, v] of Object.entries(value)) {
        out[k] = k === "valueReference" ? prefix + v : rename(v);
      }
      return out;
    }
    return value;
  };
  const values = {};
  for (const [k, v] of Object.entries(pasted.values)) values[prefix + k] = rename(v);
  return [{ valueReference: prefix + pasted.result }, values];
}

// A layer's source as an Expression node plus the named values it refers to.
// source: {kind: "image"|"collection"|"table"|"expression", assetId, start, end, reducer, expression}
export function sourceNode(source) {
  if (source.kind === "image") return [invoke("Image.load", { id: source.assetId }), {}];
  if (source.kind === "table") return [invoke("Collection.loadTable", { tableId: source.assetId }), {}];
  if (source.kind === "expression") return embed(source.expression, "p");
  let collection = invoke("ImageCollection.load", { id: source.assetId });
  if (source.start && source.end) {
    const range = invoke("DateRange", { start: source.start, end: source.end });
    const filter = invoke("Filter.dateRangeContains", { leftValue: range, rightField: "system:time_start" });
    collection = invoke("Collection.filter", { collection, filter });
  }
  // What ImageCollection.median()/mean()/min()/max()/mosaic() serialize to in the stock client.
  const reducer = source.reducer || "median";
  const name = reducer === "mosaic" ? "ImageCollection.mosaic" : `reduce.${reducer}`;
  return [invoke(name, { collection }), {}];
}

export function withValues(node, values) {
  return { result: "r", values: { ...values, r: node } };
}

// Image.visualize with the vis parameters the page edits (as ee.Image.visualize sends them).
export function visualized(image, vis) {
  const args = { image, bands: vis.bands, min: vis.min, max: vis.max };
  if (vis.bands.length === 1 && vis.palette && vis.palette.length) args.palette = vis.palette;
  else if (vis.gamma && vis.gamma !== 1) args.gamma = vis.gamma;
  return invoke("Image.visualize", args);
}

// The layer editor's statistics, as geemap's `_calculate_vis_stats` asks for them ("consistent
// with the Code Editor"): minMax, unweighted mean and stdDev of the bands over the view, in
// SR-ORG:6627 at 1 m with bestEffort and maxPixels 10,000.
export function stretchStats(image, bands, bounds) {
  const combine = (reducer1, reducer2) => invoke("Reducer.combine", { reducer1, reducer2, sharedInputs: true });
  const reducer = combine(
    combine(invoke("Reducer.minMax", {}), invoke("Reducer.unweighted", { reducer: invoke("Reducer.mean", {}) })),
    invoke("Reducer.stdDev", {}),
  );
  return invoke("Image.reduceRegion", {
    image: invoke("Image.select", { input: image, bandSelectors: bands }),
    reducer,
    geometry: bbox(bounds),
    bestEffort: true,
    maxPixels: 10000,
    crs: invoke("Projection", { crs: "SR-ORG:6627" }),
    scale: 1,
  });
}

// [min, max] for a stretch ("sigma1".."sigma3", "percent90".."percent100") from those stats,
// with geemap's `calculate_vis_minmax` arithmetic: mean ± k·σ, or the range shrunk by (1 − p).
export function stretchRange(stats, stretch) {
  const pick = (suffix) => Object.entries(stats)
    .filter(([k, v]) => k.endsWith(suffix) && v !== null)
    .map(([, v]) => v);
  const mins = pick("_min"), maxs = pick("_max"), stds = pick("_stdDev"), means = pick("_mean");
  if (!mins.length || !maxs.length || !stds.length || !means.length) return null;
  const min = Math.min(...mins), max = Math.max(...maxs);
  const std = stds.reduce((a, b) => a + b, 0) / stds.length;
  const mean = means.reduce((a, b) => a + b, 0) / means.length;
  if (stretch.startsWith("sigma")) {
    const k = Number(stretch.slice(5));
    return [mean - k * std, mean + k * std];
  }
  const p = Number(stretch.slice(7)) / 100;
  const x = (max - min) * (1 - p);
  return [min + x, max - x];
}

// The inspector's query, as geemap's `_query_point`: reduceRegion(first) at the point and scale.
export function pointValues(image, lon, lat, scale) {
  const geometry = invoke("GeometryConstructors.Point", { coordinates: [lon, lat] });
  return invoke("Image.reduceRegion", { image, reducer: invoke("Reducer.first", {}), geometry, scale });
}

// A table layer's feature under the click (geemap's `_object_info`, with its ±0.005° box).
export function featureAt(table, lon, lat) {
  const d = 0.005;
  const box = bbox({ west: lon - d, south: lat - d, east: lon + d, north: lat + d });
  const filter = invoke("Filter.intersects", { leftField: ".all", rightValue: invoke("Feature", { geometry: box }) });
  return invoke("Collection.first", { collection: invoke("Collection.filter", { collection: table, filter }) });
}

// What geemap's add_layer draws for a FeatureCollection: a half-transparent fill and an outline.
export function styledTable(table, color) {
  const fill = invoke("Image.updateMask", {
    image: invoke("Collection.style", { collection: table, fillColor: color }),
    mask: invoke("Image.constant", { value: 0.5 }),
  });
  const outline = invoke("Collection.style", { collection: table, color, fillColor: "00000000", width: 2 });
  return invoke("Image.blend", { bottom: fill, top: outline });
}

// ee.Geometry.BBox as the client serializes it: a planar polygon.
export function bbox({ west, south, east, north }) {
  return invoke("GeometryConstructors.Polygon", {
    coordinates: [[[west, north], [west, south], [east, south], [east, north]]],
    geodesic: false,
  });
}

export function bandNames(image) {
  return invoke("Image.bandNames", { image });
}
