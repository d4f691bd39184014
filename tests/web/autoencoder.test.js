// web/autoencoder.js, the course page's model runner: hand-worked cases for every layer type and for the array
// format, then the models a real lesson run exported (page_models.js) against the C++ outputs stored with them.
//   AE_PAGE_OUT=<an out root holding 05_denoising/, 10_variational/, 11_anomaly_detection/> node --test tests/web/
// (CTest runs the three lessons with --quick first, and sets AE_PAGE_OUT.)
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const AE = require("../../web/autoencoder.js");

const float32 = (shape, values) => ({ shape, dtype: "float32", data: Buffer.from(new Float32Array(values).buffer).toString("base64") });
const close = (actual, expected, tol = 1e-6) => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++)
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `element ${i}: ${actual[i]} against ${expected[i]}`);
};

test("float16 bit patterns", () => {
  const cases = [[0x3c00, 1], [0xc000, -2], [0x3555, 0.333251953125], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24],
    [0x0400, 2 ** -14], [0x7bff, 65504], [0x7c00, Infinity], [0xfc00, -Infinity], [0x0000, 0]];
  for (const [bits, value] of cases) assert.equal(AE.halfToFloat(bits), value, "0x" + bits.toString(16));
  assert.ok(Number.isNaN(AE.halfToFloat(0x7e00)));
  assert.ok(Object.is(AE.halfToFloat(0x8000), -0));
  // decodeArray's table lookup gives the same for every one of the 65,536 patterns
  const all = new Uint16Array(65536).map((_, i) => i);
  const decoded = AE.decodeArray({ shape: [65536], dtype: "float16", data: Buffer.from(all.buffer).toString("base64") }).values;
  for (let b = 0; b < 65536; b++) assert.ok(Object.is(decoded[b], Math.fround(AE.halfToFloat(b))), "0x" + b.toString(16));
});

test("arrays: little-endian float16, float32 and uint8 from base64; a wrong size is an error", () => {
  const half = { shape: [2], dtype: "float16", data: Buffer.from([0x00, 0x3c, 0x00, 0xc0]).toString("base64") };
  close(AE.decodeArray(half).values, [1, -2], 0);
  close(AE.decodeArray(float32([2, 2], [0.5, -1.25, 3, 1e-8])).values, [0.5, -1.25, 3, Math.fround(1e-8)], 0);
  assert.deepEqual([...AE.decodeArray({ shape: [3], dtype: "uint8", data: Buffer.from([0, 7, 255]).toString("base64") }).values], [0, 7, 255]);
  assert.throws(() => AE.decodeArray({ shape: [3], dtype: "float16", data: half.data }), /needs 6 bytes, got 4/);
  assert.throws(() => AE.decodeArray({ shape: [1], dtype: "int64", data: "" }), /unknown dtype int64/);
});

test("linear: y = x Wᵀ + b with W [out, in], row by row", () => {
  // W = [[1, 0, -1], [2, 1, 0]], b = [0.5, -1]; x rows (1, 2, 3) and (0, 1, 0)
  const y = AE.linear(new Float32Array([1, 2, 3, 0, 1, 0]), 2, new Float32Array([1, 0, -1, 2, 1, 0]), new Float32Array([0.5, -1]), 3, 2);
  close(y, [1 - 3 + 0.5, 2 + 2 - 1, 0.5, 1 - 1]);
  close(AE.linear(new Float32Array([1, 2, 3]), 1, new Float32Array([1, 0, -1, 2, 1, 0]), null, 3, 2), [-2, 4]);  // no bias
  assert.throws(() => AE.linear(new Float32Array([1, 2]), 1, new Float32Array(6), null, 3, 2), /linear 3 -> 2/);
});

test("activations", () => {
  const a = AE.activations;
  assert.deepEqual([a.relu(-2), a.relu(0), a.relu(3)], [0, 0, 3]);
  close([a.sigmoid(0), a.sigmoid(2), a.sigmoid(-2), a.sigmoid(-800)], [0.5, 0.8807970779778823, 0.11920292202211755, 0], 1e-12);
  close([a.tanh(1), a.tanh(-0.5)], [0.7615941559557649, -0.46211715726000974], 1e-12);
  assert.equal(a.identity(-3.5), -3.5);
  const leaky = new AE.Sequential([
    { type: "linear", in: 1, out: 2, weight: float32([2, 1], [1, -1]), bias: null },
    { type: "leaky_relu", slope: 0.1 },
  ]);
  close(leaky.forward([2]), [2, -0.2]);
  assert.throws(() => new AE.Sequential([{ type: "softmax" }]), /unknown layer type softmax/);
});

test("Sequential: linear, relu, linear, sigmoid by hand", () => {
  // h = relu([[1, -1], [0.5, 2]] x + [0, -1]);  y = sigmoid([1, 1] h + 0.25)
  const model = new AE.Sequential([
    { type: "linear", in: 2, out: 2, weight: float32([2, 2], [1, -1, 0.5, 2]), bias: float32([2], [0, -1]) },
    { type: "relu" },
    { type: "linear", in: 2, out: 1, weight: float32([1, 2], [1, 1]), bias: float32([1], [0.25]) },
    { type: "sigmoid" },
  ]);
  assert.equal(model.inFeatures, 2);
  assert.equal(model.outFeatures, 1);
  // x = (1, 1): h = relu(0, 1.5) = (0, 1.5), y = sigmoid(1.75); x = (2, -1): h = relu(3, -2) = (3, 0), y = sigmoid(3.25)
  close(model.forward([1, 1, 2, -1], 2), [1 / (1 + Math.exp(-1.75)), 1 / (1 + Math.exp(-3.25))]);
});

test("checkModel compares with the stored outputs, and fails on a wrong one", () => {
  const spec = {
    layers: [{ type: "linear", in: 2, out: 1, weight: float32([1, 2], [2, -1]), bias: float32([1], [1]) }],
    tests: { inputs: float32([2, 2], [1, 1, 0, 3]), outputs: float32([2, 1], [2, -2]) },
  };
  assert.equal(AE.checkModel(spec).ok, true);
  assert.equal(AE.relativeError([1, 2], [1, 2]), 0);
  close([AE.relativeError([1, 2.5], [1, 2])], [0.25]);
  spec.tests.outputs = float32([2, 1], [2, -2.001]);
  assert.equal(AE.checkModel(spec).ok, false);
});

// ---- the models a real lesson run exported --------------------------------------------------------------------
const out = process.env.AE_PAGE_OUT && path.resolve(process.env.AE_PAGE_OUT);
const lessons = { "05_denoising": ["dae_gaussian"], "10_variational": ["vae_2d_decoder", "plain_ae_2d_decoder"],
                  "11_anomaly_detection": ["anomaly_ae"] };

test("the exported models agree with the C++ outputs (relative error ≤ 1e-5)", (t) => {
  assert.ok(out, "set AE_PAGE_OUT to an out root where lessons 05, 10 and 11 have run (CTest does)");
  for (const [lesson, names] of Object.entries(lessons)) {
    const file = path.join(out, lesson, "page_models.js");
    assert.ok(fs.existsSync(file), file + " is missing: run build/lessons/lesson" + lesson + " --quick --out " + path.join(out, lesson));
    require(file);  // registers globalThis.AE_MODELS[lesson]
    const exp = globalThis.AE_MODELS[lesson];
    assert.deepEqual(Object.keys(exp.models).sort(), names.slice().sort(), lesson + "'s models");
    for (const name of names) {
      const spec = exp.models[name], r = AE.checkModel(spec);
      t.diagnostic(`${lesson}/${name}: ${r.count} test vectors, relative error ${r.relativeError.toExponential(2)}, ` +
                   `float16 change ${spec.float16_change}`);
      assert.ok(r.ok, `${lesson}/${name}: relative error ${r.relativeError} > 1e-5`);
      assert.ok(r.count >= 6);
      const outputs = AE.decodeArray(spec.tests.outputs).values;
      assert.ok(outputs.every((v) => v >= 0 && v <= 1), name + ": outputs are images in [0, 1]");
      assert.ok(spec.float16_change >= 0 && spec.float16_change < 0.01, name + ": float16 rounding moved the outputs by " + spec.float16_change);
    }
  }
  assert.ok(globalThis.AE_MODELS["11_anomaly_detection"].data.threshold > 0);
});

test("the check fails when one exported weight is changed", () => {
  assert.ok(out, "set AE_PAGE_OUT");
  require(path.join(out, "10_variational", "page_models.js"));
  const spec = structuredClone(globalThis.AE_MODELS["10_variational"].models.vae_2d_decoder);
  assert.equal(AE.checkModel(spec).ok, true);
  const layer = spec.layers.find((l) => l.type === "linear" && l.out === 784);
  const bytes = Buffer.from(layer.bias.data, "base64");
  bytes[1] ^= 0x40;  // one float16 bias: exponent bit flipped
  layer.bias.data = bytes.toString("base64");
  assert.equal(AE.checkModel(spec).ok, false);
});
