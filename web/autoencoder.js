// Runs the course page's models in the browser (or in Node): the small multilayer autoencoders the lessons export
// as page_models.js (lessons/support/export.cpp writes them; the format is described there). No dependencies.
//   layer   Linear:  y = x Wᵀ + b,  W [out, in] (nn::Linear's and PyTorch's layout), x [n, in] row by row
//           relu(v) = max(0, v)   leaky_relu(v) = v > 0 ? v : slope·v   sigmoid(v) = 1 / (1 + e^−v)   tanh, identity
//   model   Sequential: the layers applied in order, on Float32Arrays of n rows
//   check   the relative error ‖y_js − y_c++‖∞ / ‖y_c++‖∞ on the exported test vectors, against 1e-5
// A classic script (the page opens from disk, where module scripts are blocked): it defines globalThis.Autoencoder,
// and module.exports in Node.
(function (root) {
  "use strict";

  // Bytes from base64 (atob exists in browsers and in Node ≥ 16).
  function base64Bytes(text) {
    const s = atob(text);
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    return bytes;
  }

  // IEEE 754 half (16 bits: sign, 5 exponent bits with bias 15, 10 mantissa bits) to a number.
  function halfToFloat(h) {
    const sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    if (exponent === 0) return sign * mantissa * Math.pow(2, -24);  // zero and subnormals
    if (exponent === 31) return mantissa ? NaN : sign * Infinity;
    return sign * (1024 + mantissa) * Math.pow(2, exponent - 25);
  }

  let halfTable = null;  // all 65,536 halves as floats, made on first use (decoding a model is then a lookup a weight)
  function halfToFloatFast(h) {
    if (!halfTable) {
      halfTable = new Float32Array(65536);
      for (let b = 0; b < 65536; b++) halfTable[b] = halfToFloat(b);
    }
    return halfTable[h];
  }

  // {shape, dtype, data (base64, little-endian)} → {shape, values}: Float32Array, or Uint8Array for "uint8".
  function decodeArray(a) {
    const bytes = base64Bytes(a.data), view = new DataView(bytes.buffer);
    const count = a.shape.reduce((p, d) => p * d, 1);
    const size = { float32: 4, float16: 2, uint8: 1 }[a.dtype];
    if (!size) throw new Error("decodeArray: unknown dtype " + a.dtype);
    if (bytes.length !== count * size)
      throw new Error("decodeArray: shape [" + a.shape + "] " + a.dtype + " needs " + count * size + " bytes, got " + bytes.length);
    if (a.dtype === "uint8") return { shape: a.shape, values: bytes };
    if (a.dtype === "float32")
      return { shape: a.shape, values: Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true)) };
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = halfToFloatFast(view.getUint16(2 * i, true));
    return { shape: a.shape, values: values };
  }

  // y [n, out] = x [n, in] Wᵀ + b.
  function linear(x, n, W, b, inF, outF) {
    if (x.length !== n * inF) throw new Error("linear " + inF + " -> " + outF + ": input has " + x.length / n + " values per row");
    const y = new Float32Array(n * outF);
    for (let r = 0; r < n; r++) {
      const xr = r * inF;
      for (let o = 0; o < outF; o++) {
        const wo = o * inF;
        let s = b ? b[o] : 0;
        for (let i = 0; i < inF; i++) s += x[xr + i] * W[wo + i];
        y[r * outF + o] = s;
      }
    }
    return y;
  }

  const activations = {
    identity: (v) => v,
    relu: (v) => (v > 0 ? v : 0),
    sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    tanh: (v) => Math.tanh(v),
  };

  // One layer from its exported description: {forward(x, n) → y, out(width) → output width}.
  function makeLayer(spec) {
    if (spec.type === "linear") {
      const W = decodeArray(spec.weight).values, b = spec.bias ? decodeArray(spec.bias).values : null;
      if (W.length !== spec.in * spec.out) throw new Error("linear: weight has " + W.length + " values, not " + spec.in + "×" + spec.out);
      return { type: "linear", in: spec.in, out: spec.out, forward: (x, n) => linear(x, n, W, b, spec.in, spec.out) };
    }
    let f = activations[spec.type];
    if (spec.type === "leaky_relu") f = (v) => (v > 0 ? v : spec.slope * v);
    if (!f) throw new Error("unknown layer type " + spec.type);
    return { type: spec.type, forward: (x) => Float32Array.from(x, f) };
  }

  // The layers applied in order; forward(x, n) takes n rows (a Float32Array or an array of numbers).
  class Sequential {
    constructor(layerSpecs) {
      this.layers = layerSpecs.map(makeLayer);
      const linears = this.layers.filter((l) => l.type === "linear");
      if (!linears.length) throw new Error("Sequential: no linear layer");
      this.inFeatures = linears[0].in;
      this.outFeatures = linears[linears.length - 1].out;
    }
    forward(x, n = 1) {
      let y = Float32Array.from(x);
      for (const layer of this.layers) y = layer.forward(y, n);
      return y;
    }
  }

  // ‖a − b‖∞ / ‖b‖∞ (b: the reference).
  function relativeError(a, b) {
    if (a.length !== b.length) return Infinity;
    let diff = 0, scale = 0;
    for (let i = 0; i < b.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    return diff / Math.max(scale, 1e-30);
  }

  // Runs an exported model on its test inputs and compares with the C++ outputs.
  function checkModel(spec, tolerance = 1e-5) {
    const model = new Sequential(spec.layers);
    const inputs = decodeArray(spec.tests.inputs), outputs = decodeArray(spec.tests.outputs);
    const y = model.forward(inputs.values, inputs.shape[0]);
    const error = relativeError(y, outputs.values);
    return { model: model, relativeError: error, ok: error <= tolerance, count: inputs.shape[0] };
  }

  const api = { base64Bytes, halfToFloat, decodeArray, linear, activations, Sequential, relativeError, checkModel };
  root.Autoencoder = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof globalThis !== "undefined" ? globalThis : this);
