// Lesson 00: what backpropagation walks through.
//   L(x, x') = (1/n) Σ_i (x^(i) − x'^(i))²,  x' = f_θ(g_φ(x))          — slides 003 "Arquitetura"
//   "Funzione di costo: MSE / Backpropagation"                          — slides 000
//   "Backpropagation / Minimise reconstruction error"                   — slides 001
// A tiny 4-2-4 autoencoder, written out with autodiff ops on float64 leaves (the parameters):
//   h  = g_φ(x) = σ(W1 x + b1)     the encoder, φ = {W1 [2,4], b1 [2]}
//   x' = f_θ(h) = W2 h + b2        the decoder, θ = {W2 [4,2], b2 [4]}
// on 4 numbers per real MNIST image: the mean intensity of its four 14×14 quadrants.
// The lesson draws the graph that loss.backward() walks, checks every gradient against central differences,
// trains the model by plain gradient descent down to its floor (the PCA-2 error: a linear decoder can only reach
// a 2-D plane), and differentiates a gradient (the double backward the contractive penalty needs).
#include <cmath>
#include <set>

#include "autodiff/dot.hpp"
#include "autodiff/gradcheck.hpp"
#include "autoencoders/contractive.hpp"
#include "autoencoders/pca.hpp"
#include "lessons/support.hpp"
#include "nn/checkpoint.hpp"

using namespace lessons;
using ad::Tensor64;

namespace {

struct TinyAutoencoder {
  Tensor64 W1, b1, W2, b2;
  // PyTorch's names for ae::Autoencoder(sizes {4, 2}, code Sigmoid, output Identity), so the .npz loads there too.
  std::vector<std::pair<std::string, Tensor64>> parameters() const {
    return {{"encoder.0.weight", W1}, {"encoder.0.bias", b1}, {"decoder.0.weight", W2}, {"decoder.0.bias", b2}};
  }
};

// The forward pass, as the slide writes it (one row per example: x W1ᵀ is W1 x for every row at once).
Tensor64 encode(const TinyAutoencoder& m, const Tensor64& x) { return ad::sigmoid(ad::matmul(x, m.W1, false, true) + m.b1); }
Tensor64 decode(const TinyAutoencoder& m, const Tensor64& h) { return ad::matmul(h, m.W2, false, true) + m.b2; }
Tensor64 mse_loss(const TinyAutoencoder& m, const Tensor64& x) {
  const Tensor64 x_rec = decode(m, encode(m, x));
  return ad::mean(ad::square(x - x_rec));
}

// ‖J‖²_F = Σ_i ‖∂h_i/∂x‖² for one example x [1, 4], by autodiff: each Jacobian row ∂h_i/∂x is a backward pass
// (ad::grad) recorded with create_graph, so the result is itself a graph that can be differentiated again.
Tensor64 jacobian_norm_sq_autodiff(const TinyAutoencoder& m, const Tensor64& x) {
  const Tensor64 input = x.detach().set_requires_grad(true).set_name("x");
  const Tensor64 h = encode(m, input);
  Tensor64 total;
  for (std::size_t i = 0; i < h.size(1); ++i) {
    Tensor64 e_i = Tensor64::zeros(h.shape());  // selects code unit i: e_iᵀ J = ∂h_i/∂x
    e_i.data()[i] = 1.0;
    e_i.set_name("e" + std::to_string(i + 1));
    const Tensor64 row = ad::grad(h, {input}, e_i, /*retain_graph=*/true, /*create_graph=*/true)[0];
    const Tensor64 term = ad::sum(ad::square(row));  // ‖∂h_i/∂x‖²
    total = total.defined() ? total + term : term;
  }
  return total;
}

// The nodes a backward pass from `root` visits (ops and leaves), as ad::to_dot draws them.
std::size_t count_nodes(const Tensor64& root) {
  std::set<const ad::Node<double>*> seen{root.node().get()};
  std::vector<const ad::Node<double>*> stack{root.node().get()};
  while (!stack.empty()) {
    const ad::Node<double>* n = stack.back();
    stack.pop_back();
    for (const auto& in : n->inputs)
      if (seen.insert(in.get()).second) stack.push_back(in.get());
  }
  return seen.size();
}

// dL/dw ≈ (L(w + ε) − L(w − ε)) / 2ε, one element at a time; error O(ε²).
double central_difference(const std::function<double()>& loss, double& w, double eps) {
  const double saved = w;
  w = saved + eps;
  const double plus = loss();
  w = saved - eps;
  const double minus = loss();
  w = saved;
  return (plus - minus) / (2 * eps);
}

double relative_error(double a, double b) {
  const double scale = std::max(std::abs(a), std::abs(b));
  return scale == 0 ? 0.0 : std::abs(a - b) / scale;
}

// "W1[1][3]": element k of a parameter of the given shape.
std::string element_name(const std::string& param, const ad::Shape& shape, std::size_t k) {
  if (shape.size() == 1) return param + "[" + std::to_string(k) + "]";
  return param + "[" + std::to_string(k / shape[1]) + "][" + std::to_string(k % shape[1]) + "]";
}

// The four quadrant means of each 28×28 image: [N, 784] → [N, 4] (top-left, top-right, bottom-left, bottom-right).
Tensor64 quadrant_means(const ad::Tensor& images, std::size_t count) {
  Tensor64 f = Tensor64::zeros({count, 4});
  for (std::size_t n = 0; n < count; ++n)
    for (std::size_t r = 0; r < 28; ++r)
      for (std::size_t c = 0; c < 28; ++c)
        f.data()[n * 4 + (r / 14) * 2 + c / 14] += images.data()[n * 784 + r * 28 + c] / 196.0;
  return f;
}

// Each feature centred and scaled to unit variance over the batch.
Tensor64 standardise(const Tensor64& f) {
  ad::NoGradGuard no_grad;
  const Tensor64 centred = f - ad::mean(f, {0});
  return centred / ad::sqrt(ad::mean(ad::square(centred), {0}));
}

}  // namespace

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "00_autodiff";
  spec.title = "What backpropagation walks through";
  spec.summary =
      "Before the first real autoencoder: the smallest one, 4-2-4, written out with the library's autodiff ops on "
      "float64 tensors, so every step of training is visible. Each input is 4 numbers made from a real MNIST image "
      "(the mean intensity of its four 14×14 quadrants, standardised over the batch); the encoder is h = σ(W1 x + b1), "
      "the decoder x' = W2 h + b2, the loss the slide's mean squared error. The lesson draws the graph that "
      "loss.backward() walks, checks every parameter's gradient against central differences (and against the chain "
      "rule written by hand), trains the model by plain gradient descent down to its floor, and takes the gradient of "
      "a gradient: the double backward the contractive penalty ‖J‖²_F needs (lesson 06).";
  spec.slides = "000 \"Funzione di costo: MSE / Backpropagation\"; 001 \"Backpropagation / Minimise reconstruction error\"; "
                "003 \"Arquitetura\" (x' = f_θ(g_φ(x)))";
  spec.epochs = 20000;  // gradient-descent steps on the whole batch (one step = one epoch)
  spec.batch = 100;     // the number of images in the batch
  spec.lr = 0.25;
  spec.quick_epochs = 2000;
  spec.metrics = {"max_gradcheck_rel_error", "graph_nodes", "double_backward_rel_error"};
  return run(argc, argv, spec, [](Lesson& L) {
    const nn::Dataset& train = L.train_set();
    const std::size_t n = std::min(L.options().batch, train.size());
    if (n < 3) throw ad::Error("lesson 00 needs a batch of at least 3 images (--batch)");
    const Tensor64 x = standardise(quadrant_means(train.images, n)).set_name("x");
    L.say("the batch: the first " + std::to_string(n) + " " + train.name + " images, 4 quadrant means each");

    // ---- the model: four leaves that require a gradient ----
    ad::Generator gen(L.options().seed);
    TinyAutoencoder m{ad::randn<double>({2, 4}, gen, 0.0, 0.5).set_requires_grad(true).set_name("W1"),
                      Tensor64::zeros({2}, true).set_name("b1"),
                      ad::randn<double>({4, 2}, gen, 0.0, 0.5).set_requires_grad(true).set_name("W2"),
                      Tensor64::zeros({4}, true).set_name("b2")};

    // ---- forward, then backward: the graph it walks ----
    const Tensor64 loss = mse_loss(m, x);
    const std::size_t graph_nodes = count_nodes(loss);
    L.graph("loss_graph", ad::to_dot(loss), "The computational graph of the loss L(x, x') of the 4-2-4 autoencoder",
            "003 \"Arquitetura\" (L(x, x') with x' = f_θ(g_φ(x))); 000 \"Funzione di costo: MSE / Backpropagation\"",
            "Read it bottom-up: the forward pass. Ellipses are leaves (blue: the parameters W1, b1, W2, b2, which need a "
            "gradient; white: the data x); boxes are ops with the shape of their result (the mean is a sum times 1/n, "
            "mul_scalar). loss.backward() walks the same arrows top-down, from the loss to every blue leaf, multiplying "
            "by each op's local derivative on the way (the chain rule); the white leaf x gets no gradient.");
    loss.backward();  // fills W1.grad(), b1.grad(), W2.grad(), b2.grad()

    // The same gradients by hand, layer by layer: what backward() just did for us.
    std::map<std::string, Tensor64> by_hand;
    {
      ad::NoGradGuard no_grad;
      const Tensor64 h = encode(m, x), x_rec = decode(m, h);
      const Tensor64 d_out = (x_rec - x) * (2.0 / static_cast<double>(x.numel()));  // ∂L/∂x'
      by_hand["W2"] = ad::matmul(d_out, h, true, false);                           // ∂L/∂W2 = δ_outᵀ h
      by_hand["b2"] = ad::sum(d_out, {0});                                         // ∂L/∂b2 = Σ_rows δ_out
      const Tensor64 d_pre = ad::matmul(d_out, m.W2) * h * (1.0 - h);              // δ = (δ_out W2) ⊙ σ'(·)
      by_hand["W1"] = ad::matmul(d_pre, x, true, false);                           // ∂L/∂W1 = δᵀ x
      by_hand["b1"] = ad::sum(d_pre, {0});                                         // ∂L/∂b1 = Σ_rows δ
    }

    // ---- every gradient against central differences, in float64 ----
    const double eps = 1e-6;
    const auto loss_value = [&] {
      ad::NoGradGuard no_grad;
      return mse_loss(m, x).item();
    };
    std::vector<std::vector<std::string>> table;
    std::vector<std::string> elements;
    std::vector<double> fd_errors;
    double max_fd_error = 0, max_hand_error = 0;
    for (auto& [name, param] : m.parameters()) {  // param is a handle: writing through it moves the model's parameter
      const std::string short_name = param.name();
      for (std::size_t k = 0; k < param.numel(); ++k) {
        const double autodiff = param.grad().data()[k];
        const double numerical = central_difference(loss_value, param.data()[k], eps);
        const double hand = by_hand[short_name].data()[k];
        const double err = relative_error(autodiff, numerical);
        max_fd_error = std::max(max_fd_error, err);
        max_hand_error = std::max(max_hand_error, relative_error(autodiff, hand));
        elements.push_back(element_name(short_name, param.shape(), k));
        fd_errors.push_back(err);
        table.push_back({elements.back(), name, fmt(autodiff, 12), fmt(hand, 12), fmt(numerical, 12), fmt(err, 3)});
      }
    }
    L.csv("gradcheck", "element,parameter,autodiff,by_hand,central_difference,relative_error", table,
          "every parameter's gradient ∂L/∂w at the initial weights: autodiff (loss.backward()), the chain rule by hand, "
          "and central differences (L(w+ε) − L(w−ε))/2ε with ε = 1e-6, all in float64");
    L.plot("gradcheck_errors",
           Plot("Autodiff against central differences, every parameter (float64, ε = 1e-6)", "parameter element",
                "relative error |autodiff − numerical| / max(|·|)")
               .bars(elements, {{"relative error", fd_errors}})
               .log_y()
               .command("set format y '10^{%L}'")
               .command("set xtics rotate by -45")
               .command("set yrange [1e-13:1e-4]")
               .command("set arrow from graph 0, first 1e-6 to graph 1, first 1e-6 nohead dt 2 lw 2 lc rgb 'red'")
               .command("set label 'target 1e-6' at graph 0.01, first 2e-6 tc rgb 'red'")
               .size(1100, 600),
           "Relative error of each of the 22 gradient entries: backpropagation against central differences",
           "001 \"Backpropagation / Minimise reconstruction error\"",
           "Every bar sits orders of magnitude below the dashed target: the gradients backward() computes are the true "
           "derivatives of the loss. The residue is the finite difference's own error (ε² truncation and rounding in the "
           "loss, about 1e-16/ε), not backpropagation's: it grows as the gradient itself shrinks (compare gradcheck.csv).");

    // The library's own checks on the same loss, as a function of the four parameters (random upstream gradients).
    const ad::Function64 loss_of = [&x](const std::vector<Tensor64>& p) { return mse_loss({p[0], p[1], p[2], p[3]}, x); };
    const std::vector<Tensor64> initial{m.W1.detach(), m.b1.detach(), m.W2.detach(), m.b2.detach()};
    const ad::GradcheckResult gc = ad::gradcheck(loss_of, initial);
    const ad::GradcheckResult ggc = ad::gradgradcheck(loss_of, initial);
    if (!gc || !ggc) throw ad::Error("the library's gradient check failed: " + gc.message + ggc.message);

    // ---- training: gradient descent, w ← w − lr ∂L/∂w, down to the floor ----
    // The decoder is linear, so every reconstruction lies on a 2-D plane: no 4-2-4 model of this kind can beat the
    // best 2-D plane, PCA with 2 components (computed on the same batch).
    ae::PCA pca;
    const ad::Tensor x_float = ad::cast<float>(x);
    pca.fit(x_float);
    const double floor = ae::mean_squared_error(pca.reconstruct(x_float, 2), x_float);
    const double pca1 = ae::mean_squared_error(pca.reconstruct(x_float, 1), x_float);
    const double initial_loss = loss_value();
    std::vector<double> steps, curve;
    auto parameters = m.parameters();  // handles: loading writes the model's own tensors
    if (!L.load_model(parameters, "tiny_autoencoder.npz")) {  // --load: the saved weights instead of training
      for (std::size_t step = 1; step <= L.epochs(); ++step) {
        for (auto& [name, w] : m.parameters()) w.zero_grad();
        const Tensor64 l = mse_loss(m, x);
        l.backward();
        for (auto& [name, w] : m.parameters()) w.value() -= L.options().lr * w.grad().value();
        steps.push_back(static_cast<double>(step));
        curve.push_back(l.item());
        if (!std::isfinite(curve.back())) throw ad::Error("the loss became " + fmt(curve.back()) + " at step " + std::to_string(step) + "; lower --lr");
      }
    }
    const double final_loss = loss_value();
    L.say("loss " + fmt(initial_loss) + " → " + fmt(final_loss) + " after " + std::to_string(L.epochs()) +
          " steps; the floor (PCA-2) is " + fmt(floor));
    const double last = steps.empty() ? 1.0 : steps.back();
    L.plot("loss_curve",
           Plot("The 4-2-4 autoencoder's loss under gradient descent (lr " + fmt(L.options().lr, 3) + ", whole batch)",
                "gradient-descent step", "MSE per feature (standardised units)")
               .line("autoencoder L(x, x')", steps, curve, false)
               .line("floor: PCA with 2 components", {1, last}, {floor, floor}, false)
               .line("PCA with 1 component", {1, last}, {pca1, pca1}, false)
               .log_x()
               .log_y()
               .command("set yrange [0.08:2]"),
           "The training loss falling to the reconstruction floor",
           "001 \"Backpropagation / Minimise reconstruction error\"; 000 \"Funzione di costo: MSE\"",
           "Each step is one forward pass, one loss.backward() and w ← w − lr·∂L/∂w. The loss starts near 1 (the "
           "variance of standardised data), soon passes the best 1-D code and then creeps down to the PCA-2 line and "
           "never below it: the linear decoder puts every reconstruction on a 2-D plane, and PCA's plane is the best "
           "one. The sigmoid code approaches it slowly, since it must stay in its nearly linear range to project onto the plane "
           "(the trained model in tiny_autoencoder.npz has small W1 entries and large W2 ones for that reason).");

    // ---- the double backward, on one example ----
    // The contractive penalty (lesson 06) is ‖J‖²_F with J = ∂h/∂x: a function of a gradient. Its gradient with
    // respect to W1 and b1 is a gradient of a gradient, which backward() can take because the first one was recorded.
    const Tensor64 x0 = ad::slice(x, 0, 0, 1).detach();  // the first image's 4 features, [1, 4]
    const Tensor64 penalty = jacobian_norm_sq_autodiff(m, x0);
    const Tensor64 closed = ae::contractive_penalty_closed_form(x0, m.W1, m.b1);  // Σ_i (h_i(1−h_i))² Σ_j W1_ij²
    const std::vector<Tensor64> d_penalty = ad::grad(penalty, {m.W1, m.b1}, Tensor64(), true);  // double backward
    const std::vector<Tensor64> d_closed = ad::grad(closed, {m.W1, m.b1});
    const auto closed_value = [&] {
      ad::NoGradGuard no_grad;
      return ae::contractive_penalty_closed_form(x0, m.W1, m.b1).item();
    };
    double double_backward_error = relative_error(penalty.item(), closed.item());
    double double_backward_fd = 0;
    std::vector<std::vector<std::string>> dd_table{
        {"‖J‖²_F", fmt(penalty.item(), 15), fmt(closed.item(), 15), "", fmt(double_backward_error, 3)}};
    const std::vector<std::pair<std::string, Tensor64>> encoder_params{{"W1", m.W1}, {"b1", m.b1}};
    for (std::size_t p = 0; p < encoder_params.size(); ++p) {
      Tensor64 param = encoder_params[p].second;
      for (std::size_t k = 0; k < param.numel(); ++k) {
        const double autodiff = d_penalty[p].data()[k], exact = d_closed[p].data()[k];
        const double numerical = central_difference(closed_value, param.data()[k], 1e-5);
        double_backward_error = std::max(double_backward_error, relative_error(autodiff, exact));
        double_backward_fd = std::max(double_backward_fd, relative_error(autodiff, numerical));
        dd_table.push_back({"∂‖J‖²/∂" + element_name(encoder_params[p].first, param.shape(), k),
                            fmt(autodiff, 15), fmt(exact, 15), fmt(numerical, 15), fmt(relative_error(autodiff, exact), 3)});
      }
    }
    L.csv("double_backward", "quantity,double_backward_autodiff,closed_form,central_difference_of_closed_form,relative_error",
          dd_table,
          "the contractive penalty ‖J‖²_F of the trained encoder on the first image, and its gradient w.r.t. W1 and b1: "
          "by autodiff (Jacobian rows by ad::grad with create_graph, then a backward through them) against "
          "ae::contractive_penalty_closed_form (and central differences of it, ε = 1e-5)");
    const std::size_t penalty_nodes = count_nodes(penalty);
    L.graph("penalty_graph", ad::to_dot(penalty),
            "The graph of ‖J‖²_F for one example, built by backward passes recorded with create_graph",
            "004 \"AUTOENCODERS CONTRACTIVOS\" (λ Σ ‖J_x h_i‖²; lesson 06)",
            "The encoder's forward pass (matmul, add, sigmoid) is at the bottom; x is blue here, since J is taken "
            "with respect to it. Above it, the two backward passes that "
            "gave the Jacobian rows ∂h_i/∂x are now part of the graph: sigmoid_grad (e_i ⊙ h(1 − h), with the one-hot "
            "leaves e1, e2 picking the code unit) and matmul with W1 (the backward of x W1ᵀ). W1 enters twice, through "
            "the code h and through the Jacobian directly, so backward() from ‖J‖²_F sums both paths: it walks through a "
            "backward pass, the double backward.");

    // ---- the trained model ----
    nn::Named<double> arrays;
    for (auto& [name, w] : m.parameters()) arrays.emplace_back(name, w.detach());
    L.save_model(arrays, "tiny_autoencoder.npz", "the trained 4-2-4 autoencoder's W1, b1, W2, b2");
    L.note("The trained 4-2-4 autoencoder is saved as `tiny_autoencoder.npz` (float64; `numpy.load(\"tiny_autoencoder.npz\")"
           "[\"encoder.0.weight\"]`), with the names of `ae::Autoencoder(ae::AutoencoderOptions().sizes({4, 2})"
           ".code(ae::Activation::Sigmoid).output(ae::Activation::Identity), gen)`, so `nn::load(model, "
           "\"tiny_autoencoder.npz\")` loads it there (as float32). Its inputs are the standardised quadrant means of the "
           "first " + std::to_string(n) + " training images.");
    L.note("What each gradient is (the chain rule backward() applies, and the `by_hand` column of gradcheck.csv): with "
           "δ' = ∂L/∂x' = 2(x' − x)/(4n) for the batch's n rows, ∂L/∂W2 = δ'ᵀ h and ∂L/∂b2 = Σ_rows δ'; back through the "
           "decoder and the sigmoid, δ = (δ' W2) ⊙ h(1 − h), and ∂L/∂W1 = δᵀ x, ∂L/∂b1 = Σ_rows δ. Autodiff reaches the "
           "same numbers bit for bit, by walking the graph instead of the equations.");
    L.note("The data: the first " + std::to_string(n) + " images of " + train.name + ", each reduced to 4 numbers, the mean "
           "intensity of its four 14×14 quadrants, then each feature standardised over the batch (mean 0, variance 1), "
           "so plain gradient descent with one learning rate suits all four. The loss is in those standardised units: "
           "predicting the mean scores 1.");

    L.metric("max_gradcheck_rel_error", max_fd_error,
             "largest relative error of the 22 gradient entries, autodiff against central differences (float64, "
             "ε = 1e-6); target ≤ 1e-6");
    L.metric("graph_nodes", static_cast<double>(graph_nodes), "nodes in the loss's graph that backward() walks: 5 leaves (x, W1, b1, W2, b2) and 9 ops, one per step of the "
             "forward pass as the slide writes it (the mean counts as a sum and a scaling)");
    L.metric("double_backward_rel_error", double_backward_error,
             "‖J‖²_F on one example and its gradient w.r.t. W1, b1: double backward against the closed form, largest "
             "relative error; target ≤ 1e-8");
    L.metric("double_backward_central_diff_rel_error", double_backward_fd,
             "the same gradient against central differences of the closed form (ε = 1e-5), largest relative error");
    L.metric("hand_backprop_rel_error", max_hand_error, "autodiff against the chain rule written by hand, largest relative error");
    L.metric("library_gradcheck_max_abs_error", gc.max_abs_error, "ad::gradcheck on the loss (random upstream gradient), passed");
    L.metric("library_gradgradcheck_max_abs_error", ggc.max_abs_error, "ad::gradgradcheck on the loss, passed");
    L.metric("penalty_graph_nodes", static_cast<double>(penalty_nodes), "nodes in the graph of ‖J‖²_F (one example, double backward)");
    L.metric("initial_loss", initial_loss, "MSE per feature at the random initial weights (standardised units)");
    L.metric("final_loss", final_loss, "MSE per feature after training (standardised units)");
    L.metric("pca2_floor", floor, "the floor: MSE per feature of PCA with 2 components on the same batch; final_loss ≥ it");
    L.metric("final_loss_over_floor", final_loss / floor, "final_loss / pca2_floor: 1 is the floor, never below");
    L.metric("pca1_loss", pca1, "MSE per feature of PCA with 1 component, for reference");
    L.metric("batch_images", static_cast<double>(n), "images in the batch");
  });
}
