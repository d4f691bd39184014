// The models of the course page's interactive panels. A lesson that feeds a panel writes, beside its .npz files,
// page_models.js: a classic script (no fetch, no ES module: the page opens from disk) that registers
//   AE_MODELS["<lesson id>"] = {lesson, quick, seed, models: {name: {layers, tests, ...}}, data: {name: ...}}
// on the page's global object. web/autoencoder.js runs the models; web/panels.js draws the panels.
//   layer:  {"type": "linear", "in": I, "out": O, "weight": ARRAY [O, I], "bias": ARRAY [O]}   y = x Wᵀ + b
//           {"type": "relu" | "sigmoid" | "tanh" | "identity"},  {"type": "leaky_relu", "slope": s}
//   ARRAY:  {"shape": [...], "dtype": "float16" | "float32" | "uint8", "data": base64 of the little-endian values}
//   tests:  {"inputs": ARRAY [n, I], "outputs": ARRAY [n, out]}: the C++ model's outputs for a few inputs.
// Weights are stored as float16 (IEEE half, rounded to nearest even): the four panel models hold 1.45 M weights,
// 7.7 MB as base64 float32 against the page's ~5 MB budget, 3.9 MB as float16. The test outputs come from the
// C++ model running in float32 with its weights rounded the same way, so the page's check (JS against C++,
// relative error ≤ 1e-5) tests the JS forward pass exactly; "float16_change" says how far the rounding moved the
// outputs from the trained float32 model's (max |Δ| over the test outputs).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "lessons/support/internal.hpp"
#include "nn/layers.hpp"

namespace lessons {

namespace {

using detail::json_escape;
using detail::num;

std::string base64(const std::vector<std::uint8_t>& bytes) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::uint32_t n = static_cast<std::uint32_t>(bytes[i]) << 16 |
                            (i + 1 < bytes.size() ? static_cast<std::uint32_t>(bytes[i + 1]) << 8 : 0) |
                            (i + 2 < bytes.size() ? bytes[i + 2] : 0);
    out += abc[n >> 18 & 63];
    out += abc[n >> 12 & 63];
    out += i + 1 < bytes.size() ? abc[n >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? abc[n & 63] : '=';
  }
  return out;
}

// float → IEEE 754 half, rounded to nearest even (finite values only; the caller checks).
std::uint16_t to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const auto sign = static_cast<std::uint16_t>(x >> 16 & 0x8000);
  const std::uint32_t a = x & 0x7fffffff;
  if (a >= 0x477ff000) return sign | 0x7c00;  // ≥ 65520 rounds to infinity
  if (a < 0x38800000)                         // below 2⁻¹⁴: a subnormal half, in units of 2⁻²⁴
    return sign | static_cast<std::uint16_t>(std::nearbyint(std::ldexp(std::fabs(f), 24)));
  std::uint32_t h = (a - 0x38000000) >> 13;  // exponent 127 → 15 bias, mantissa 23 → 10 bits
  const std::uint32_t rest = a & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;  // a carry into the exponent is still right
  return sign | static_cast<std::uint16_t>(h);
}

float from_half(std::uint16_t h) {
  const int exponent = h >> 10 & 0x1f, mantissa = h & 0x3ff;
  const float magnitude = exponent == 0    ? std::ldexp(static_cast<float>(mantissa), -24)
                          : exponent == 31 ? INFINITY
                                           : std::ldexp(static_cast<float>(1024 + mantissa), exponent - 25);
  return h & 0x8000 ? -magnitude : magnitude;
}

std::string shape_json(const ad::Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string array_json(const ad::Shape& shape, const std::string& dtype, const std::vector<std::uint8_t>& bytes) {
  return "{\"shape\": " + shape_json(shape) + ", \"dtype\": \"" + dtype + "\", \"data\": \"" + base64(bytes) + "\"}";
}

std::string float32_json(const float* v, const ad::Shape& shape) {
  std::vector<std::uint8_t> bytes;
  for (std::size_t i = 0; i < ad::shape_numel(shape); ++i) {
    std::uint32_t x;
    std::memcpy(&x, &v[i], 4);
    for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<std::uint8_t>(x >> (8 * b)));
  }
  return array_json(shape, "float32", bytes);
}

std::string float16_json(const std::vector<std::uint16_t>& halves, const ad::Shape& shape) {
  std::vector<std::uint8_t> bytes;
  for (auto h : halves)
    bytes.push_back(static_cast<std::uint8_t>(h)), bytes.push_back(static_cast<std::uint8_t>(h >> 8));
  return array_json(shape, "float16", bytes);
}

// Values as float16; WHAT names them in the error for a value float16 cannot hold (non-finite, or beyond ±65504).
std::vector<std::uint16_t> halves(const float* v, std::size_t n, const std::string& what) {
  std::vector<std::uint16_t> h(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!(std::fabs(v[i]) <= 65504.0f))
      throw ad::Error(what + " [" + std::to_string(i) + "] = " + std::to_string(v[i]) + " does not fit a float16");
    h[i] = to_half(v[i]);
  }
  return h;
}

// The layers in order of application, Sequentials opened.
void flatten(const std::shared_ptr<nn::Module>& m, std::vector<std::shared_ptr<nn::Module>>& out) {
  if (const auto seq = std::dynamic_pointer_cast<nn::Sequential>(m))
    for (std::size_t i = 0; i < seq->size(); ++i) flatten((*seq)[i], out);
  else
    out.push_back(m);
}

// A Linear's weight as [out, in] (a tied layer keeps the encoder's [in, out]: transposed here).
std::vector<float> weight_out_in(const nn::Linear& l) {
  const float* w = l.weight.data();
  const std::size_t in = l.in_features(), out = l.out_features();
  std::vector<float> v(in * out);
  const bool tied = l.type_name() != "Linear";
  for (std::size_t o = 0; o < out; ++o)
    for (std::size_t i = 0; i < in; ++i) v[o * in + i] = tied ? w[i * out + o] : w[o * in + i];
  return v;
}

// Rounds every value of the given tensors to float16 in place, and puts the originals back when it goes away.
class RoundedToHalf {
 public:
  explicit RoundedToHalf(std::vector<Tensor> tensors) : tensors_(std::move(tensors)) {
    for (auto& t : tensors_) {
      float* v = t.data();
      saved_.emplace_back(v, v + t.numel());
      for (std::size_t i = 0; i < t.numel(); ++i) v[i] = from_half(to_half(v[i]));
    }
  }
  ~RoundedToHalf() {
    for (std::size_t k = 0; k < tensors_.size(); ++k) std::copy(saved_[k].begin(), saved_[k].end(), tensors_[k].data());
  }
  RoundedToHalf(const RoundedToHalf&) = delete;
  RoundedToHalf& operator=(const RoundedToHalf&) = delete;

 private:
  std::vector<Tensor> tensors_;
  std::vector<std::vector<float>> saved_;
};

}  // namespace

PageExport::PageExport(const Lesson& lesson) : lesson_(lesson) {}

PageExport& PageExport::model(const std::string& name, const std::vector<std::shared_ptr<nn::Module>>& layers,
                              const Tensor& test_inputs, const std::string& description) {
  const std::string what = "page export " + lesson_.spec().id + "/" + name;
  std::vector<std::shared_ptr<nn::Module>> flat;
  for (const auto& m : layers) {
    if (!m) throw ad::Error(what + ": a layer is null");
    flatten(m, flat);
  }
  std::vector<Tensor> weights;  // every Linear's weight and bias, each once (a tied weight is shared)
  std::ostringstream js;
  js << "{\"description\": \"" << json_escape(description) << "\",\n \"layers\": [";
  if (test_inputs.dim() != 2 || test_inputs.size(0) == 0)
    throw ad::Error(what + ": test inputs " + ad::shape_str(test_inputs.shape()) +
                    " should be [n, features] with n > 0");
  std::size_t width = test_inputs.size(1);  // values per row entering the next layer
  for (std::size_t k = 0; k < flat.size(); ++k) {
    const nn::Module& m = *flat[k];
    js << (k ? ",\n  " : "\n  ");
    const std::string type = m.type_name();
    if (const auto* l = dynamic_cast<const nn::Linear*>(&m)) {
      if (width != l->in_features())
        throw ad::Error(what + ": layer " + std::to_string(k) + " (Linear " + std::to_string(l->in_features()) +
                        " -> " + std::to_string(l->out_features()) + ") gets " + std::to_string(width) +
                        " values per row");
      width = l->out_features();
      const std::string at = what + ": layer " + std::to_string(k);
      const std::vector<float> w = weight_out_in(*l);
      js << "{\"type\": \"linear\", \"in\": " << l->in_features() << ", \"out\": " << l->out_features()
         << ", \"weight\": "
         << float16_json(halves(w.data(), w.size(), at + " weight"), {l->out_features(), l->in_features()})
         << ", \"bias\": "
         << (l->bias.defined()
                 ? float16_json(halves(l->bias.data(), l->bias.numel(), at + " bias"), {l->out_features()})
                 : "null");
      for (const Tensor& t : {l->weight, l->bias}) {  // each tensor once: a tied weight is shared with the encoder
        if (!t.defined()) continue;
        if (std::none_of(weights.begin(), weights.end(), [&](const Tensor& u) { return u.data() == t.data(); }))
          weights.push_back(t);
      }
      js << "}";
    } else if (type == "ReLU" || type == "Sigmoid" || type == "Tanh" || type == "Identity") {
      std::string lower = type == "ReLU"      ? "relu"
                          : type == "Sigmoid" ? "sigmoid"
                          : type == "Tanh"    ? "tanh"
                                              : "identity";
      js << "{\"type\": \"" << lower << "\"}";
    } else if (const auto* lr = dynamic_cast<const nn::LeakyReLU*>(&m)) {
      js << "{\"type\": \"leaky_relu\", \"slope\": " << num(lr->slope) << "}";
    } else {
      throw ad::Error(what + ": layer " + std::to_string(k) + " is a " + type +
                      "; the page runs Linear, ReLU, LeakyReLU, Sigmoid, Tanh and Identity only");
    }
  }
  js << "],\n";
  if (weights.empty()) throw ad::Error(what + ": no Linear layer");

  ad::NoGradGuard no_grad;
  const auto run = [&] {
    Tensor x = test_inputs;
    for (const auto& m : flat) x = (*m)(x);
    return x;
  };
  const Tensor trained = run();  // the float32 model the lesson trained
  Tensor page;                   // the same model with the page's float16 weights
  {
    RoundedToHalf rounded(weights);
    page = run();
  }
  double change = 0;
  for (std::size_t i = 0; i < page.numel(); ++i) {
    if (!std::isfinite(page.data()[i])) throw ad::Error(what + ": the test outputs are not finite");
    change = std::max(change, std::fabs(static_cast<double>(page.data()[i]) - trained.data()[i]));
  }
  js << " \"float16_change\": " << num(change)
     << ",\n \"tests\": {\"inputs\": " << float32_json(test_inputs.data(), test_inputs.shape())
     << ",\n  \"outputs\": " << float32_json(page.data(), page.shape()) << "}}";
  models_.emplace_back(name, js.str());
  return *this;
}

PageExport& PageExport::array(const std::string& name, const Tensor& values) {
  for (std::size_t i = 0; i < values.numel(); ++i)
    if (!std::isfinite(values.data()[i]))
      throw ad::Error("page export " + lesson_.spec().id + "/" + name + ": value " + std::to_string(i) +
                      " is not finite");
  data_.emplace_back(name, float32_json(values.data(), values.shape()));
  return *this;
}

PageExport& PageExport::labels(const std::string& name, const std::vector<std::size_t>& values) {
  std::vector<std::uint8_t> bytes;
  for (auto v : values) {
    if (v > 255)
      throw ad::Error("page export " + lesson_.spec().id + "/" + name + ": label " + std::to_string(v) + " > 255");
    bytes.push_back(static_cast<std::uint8_t>(v));
  }
  data_.emplace_back(name, array_json({values.size()}, "uint8", bytes));
  return *this;
}

PageExport& PageExport::value(const std::string& name, double v) {
  if (!std::isfinite(v)) throw ad::Error("page export " + lesson_.spec().id + "/" + name + " is not finite");
  data_.emplace_back(name, num(v));
  return *this;
}

PageExport& PageExport::text(const std::string& name, const std::string& v) {
  data_.emplace_back(name, "\"" + json_escape(v) + "\"");
  return *this;
}

std::string PageExport::write() const {
  const Spec& spec = lesson_.spec();
  std::ostringstream js;
  js << "// lesson" << spec.id << "'s models and data for its panels on the course page: written by\n"
     << "// lessons/support/export.cpp, run by web/autoencoder.js and web/panels.js. Arrays are base64 little-endian.\n"
     << "(globalThis.AE_MODELS = globalThis.AE_MODELS || {})[\"" << json_escape(spec.id) << "\"] = {\n"
     << "\"lesson\": \"" << json_escape(spec.id) << "\", \"quick\": " << (lesson_.quick() ? "true" : "false")
     << ", \"loaded\": " << (lesson_.loaded() ? "true" : "false") << ", \"seed\": " << lesson_.options().seed
     << ", \"epochs\": " << lesson_.options().epochs << ",\n\"models\": {";
  for (std::size_t i = 0; i < models_.size(); ++i)
    js << (i ? ",\n" : "\n") << "\"" << json_escape(models_[i].first) << "\": " << models_[i].second;
  js << "},\n\"data\": {";
  for (std::size_t i = 0; i < data_.size(); ++i)
    js << (i ? ",\n" : "\n") << "\"" << json_escape(data_[i].first) << "\": " << data_[i].second;
  js << "}\n};\n";
  const std::string file = lesson_.path("page_models.js");
  detail::write_file(file, js.str());
  return file;
}

}  // namespace lessons
