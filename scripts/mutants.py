#!/usr/bin/python3
"""Puts realistic bugs into a copy of the sources, one at a time, and reports which tests catch each.

  /usr/bin/python3 scripts/mutants.py [--only NAME ...] [--keep]

A mutant that leaves every test green is a hole in the suite. The copy lives in a temporary folder (the work tree
is never touched); it is configured once and rebuilt incrementally per mutant. Needs the data from setup.sh.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name: (file, original text, mutated text) — each original must occur exactly once.
MUTANTS = {
    "batchnorm_eval_uses_batch_mean": (
        "nn/layers.cpp",
        "const TensorT<T> mu = ad::reshape(running_mean.detach(), per_channel);",
        "const TensorT<T> mu = ad::mean(x, axes, true).detach();"),
    "adam_weight_decay_sign": (
        "nn/optim.cpp",
        "const T gj = d[j] + wd * w[j];",
        "const T gj = d[j] - wd * w[j];"),
    "kl_normal_mean_over_elements": (
        "nn/losses.cpp",
        "total = ad::mul(total, T(1) / static_cast<T>(mu.size(0)));",
        "total = ad::mul(total, T(1) / static_cast<T>(mu.numel()));"),
    "k_sparse_reconstructs_from_k_minus_1": (
        "autoencoders/k_sparse.cpp",
        "return decode(ad::topk_mask((*encoder_linear)(x), k_));",
        "return decode(ad::topk_mask((*encoder_linear)(x), k_ - 1));"),
    "vae_reparameterises_with_variance": (
        "autoencoders/variational.cpp",
        "return ad::add(q.mu, ad::mul(ad::exp(ad::mul(q.logvar, 0.5f)), eps));",
        "return ad::add(q.mu, ad::mul(ad::exp(q.logvar), eps));"),
    "tied_decoder_filters_not_transposed": (
        "autoencoders/autoencoder.cpp",
        "return options_.tied() ? ad::transpose(last.weight) : last.weight;",
        "return last.weight;"),
    "idx_images_rows_and_columns_swapped": (
        "nn/data.cpp",
        "for (std::size_t i = 0; i < n * d; ++i) px[i] = static_cast<float>(images.data[i]) / 255.0f;",
        "for (std::size_t i = 0; i < n * d; ++i) px[(i / d) * d + (i % images.dims[2]) * images.dims[1] + "
        "(i % d) / images.dims[2]] = static_cast<float>(images.data[i]) / 255.0f;"),
    "checkpoint_compares_element_counts": (
        "nn/checkpoint.cpp",
        "if (it->second->shape() != t.shape())",
        "if (it->second->numel() != t.numel())"),
    "psnr_with_peak_255": (
        "lessons/support/lesson.cpp",
        "return 10.0 * std::log10(1.0 / std::max(mse, 1e-12));",
        "return 10.0 * std::log10(255.0 * 255.0 / std::max(mse, 1e-12));"),
    # more of the same kinds: conventions, scales, off-by-ones, wrong axes
    "sgd_momentum_with_dampening": ("nn/optim.cpp", "v[j] = mu * v[j] + dj;", "v[j] = mu * v[j] + (1 - mu) * dj;"),
    "adam_without_bias_correction": (
        "nn/optim.cpp",
        "const double c1 = 1.0 - std::pow(beta1_, static_cast<double>(t_)), c2 = 1.0 - std::pow(beta2_, static_cast<double>(t_));",
        "const double c1 = 1.0, c2 = 1.0;"),
    "steplr_one_epoch_early": ("nn/optim.cpp", "static_cast<double>(epoch_ / step_size_)",
                               "static_cast<double>((epoch_ + 1) / step_size_)"),
    "batchnorm_running_var_biased": ("nn/layers.cpp", "m * var[c] * unbias;", "m * var[c];"),
    "dropout_scaled_by_p": ("nn/layers.cpp", "keep.value() *= static_cast<T>(1.0 / (1.0 - p_));",
                            "keep.value() *= static_cast<T>(1.0 / p_);"),
    "linear_init_bound_from_fan_out": ("nn/layers.cpp", "default_init(weight, bias, in_features, gen);",
                                       "default_init(weight, bias, out_features, gen);"),
    "conv_transpose_init_from_in_channels": ("nn/layers.cpp", "default_init(weight, bias, out_channels * k * k, gen);",
                                             "default_init(weight, bias, in_channels * k * k, gen);"),
    "cross_entropy_summed_over_batch": ("nn/losses.cpp", "T(-1) / static_cast<T>(n));", "T(-1));"),
    "topk_by_value_not_magnitude": ("autodiff/topk.cpp", "const T ai = std::abs(row[i]), aj = std::abs(row[j]);",
                                    "const T ai = row[i], aj = row[j];"),
    "k_sparse_encodes_k_not_alpha_k": (
        "autoencoders/k_sparse.cpp",
        "static_cast<std::size_t>(std::lround(options_.alpha() * static_cast<double>(options_.k()))));",
        "options_.k());"),
    "contractive_penalty_not_averaged": (
        "autoencoders/contractive.cpp",
        "return ad::mul(ad::sum(ad::mul(slope_sq, row_norms)), T(1) / static_cast<T>(x.size(0)));",
        "return ad::sum(ad::mul(slope_sq, row_norms));"),
    "gaussian_noise_not_clipped": (
        "autoencoders/corruption.cpp",
        "v[i] = std::clamp(v[i] + static_cast<float>(level * gen.normal()), 0.0f, 1.0f);",
        "v[i] = v[i] + static_cast<float>(level * gen.normal());"),
    "masking_keeps_instead_of_drops": ("autoencoders/corruption.cpp", "if (gen.uniform() < level) v[i] = 0.0f;",
                                       "if (gen.uniform() > level) v[i] = 0.0f;"),
    "salt_and_pepper_only_salt": ("autoencoders/corruption.cpp", "gen.uniform() < 0.5 ? 0.0f : 1.0f;", "1.0f;"),
    "denoising_target_is_the_corrupted_input": (
        "autoencoders/autoencoder.cpp",
        "return loss_on(corrupting ? corrupt(x, options_.corruption(), options_.noise_level(), noise_) : x, x);",
        "const Tensor c = corrupting ? corrupt(x, options_.corruption(), options_.noise_level(), noise_) : x; return loss_on(c, c);"),
    "vae_beta_ignored": ("autoencoders/variational.cpp", "per_image), options_.beta());", "per_image));"),
    "vae_test_elbo_keeps_beta": ("autoencoders/variational.cpp", "  options_.beta(1.0);\n", "\n"),
    "leaky_relu_default_slope": ("autoencoders/model.cpp", "std::make_shared<nn::LeakyReLU>(0.2);",
                                 "std::make_shared<nn::LeakyReLU>(0.01);"),
    "pca_covariance_over_n": ("autoencoders/pca.cpp", "1.0 / static_cast<double>(n - 1)", "1.0 / static_cast<double>(n)"),
    "per_pixel_mse_over_rows": ("autoencoders/trainer.cpp", "return s / static_cast<double>(a.numel());",
                                "return s / static_cast<double>(a.size(0));"),
    "dataloader_never_reshuffles": ("nn/data.cpp", "if (shuffle_) gen_.shuffle(order_.begin(), order_.end());",
                                    "if (shuffle_ && position_ == 0 && order_.front() == 0) gen_.shuffle(order_.begin(), order_.end());"),
}


def run(cmd, cwd, env=None, timeout=1200):
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy")
    a = ap.parse_args()
    names = a.only or list(MUTANTS)
    tmp = tempfile.mkdtemp(prefix="ae_mutants_")
    src = os.path.join(tmp, "src")
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns("build*", "data", "out", ".git"))
    shared = os.path.join(os.path.dirname(ROOT), "shared")  # ../shared beside the copy too (the PyTorch reference)
    if os.path.isdir(shared):
        os.symlink(shared, os.path.join(tmp, "shared"))
    env = dict(os.environ, AE_DATA_DIR=os.path.join(ROOT, "data"))
    build = os.path.join(src, "build")
    print(f"configuring and building a copy in {src} ...", flush=True)
    r = run(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=Release"], src)
    r = run(["cmake", "--build", build, "-j", str(os.cpu_count() or 2)], src)
    if r.returncode:
        print(r.stdout[-3000:], r.stderr[-3000:])
        return 1
    survivors = []
    for name in names:
        path, original, mutated = MUTANTS[name]
        full = os.path.join(src, path)
        text = open(full).read()
        if text.count(original) != 1:
            print(f"{name}: the original text occurs {text.count(original)} times in {path}; update this script")
            survivors.append(name)
            continue
        open(full, "w").write(text.replace(original, mutated))
        t0 = time.time()
        try:
            b = run(["cmake", "--build", build, "-j", str(os.cpu_count() or 2)], src)
            if b.returncode:
                print(f"{name}: does not compile\n{b.stdout[-2000:]}")
                continue
            t = run(["ctest", "--test-dir", build, "-j", str(os.cpu_count() or 2)], src, env)
            failed = [l.split("-", 1)[1].split("(")[0].strip() for l in t.stdout.splitlines()
                      if "(Failed)" in l or "(Subprocess aborted)" in l or "(SEGFAULT)" in l]
            if failed:
                first = ""
                exe = next((os.path.join(build, "tests", f) for f in failed if os.path.exists(os.path.join(build, "tests", f))), None)
                if exe:
                    detail = run([exe, "--log_level=error"], src, env).stdout
                    first = next((l for l in detail.splitlines() if "error" in l), "")
                print(f"{name}: caught by {', '.join(failed)} ({time.time() - t0:.0f} s)\n    {first.strip()[:300]}", flush=True)
            else:
                print(f"{name}: SURVIVED, every test passed ({time.time() - t0:.0f} s)", flush=True)
                survivors.append(name)
        finally:
            open(full, "w").write(text)
    run(["cmake", "--build", build, "-j", str(os.cpu_count() or 2)], src)
    if not a.keep:
        shutil.rmtree(tmp)
    print(f"{len(names) - len(survivors)} of {len(names)} mutants caught" + (f"; survivors: {survivors}" if survivors else ""))
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
