// The ratings reader (three MovieLens formats, malformed lines refused by file and line), the synthetic low-rank
// ratings matrix, and AutoRec: its loss sees the observed entries only, its gradient is right, and it learns.
#define BOOST_TEST_MODULE recommender
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>

#include <xtensor-blas/xlinalg.hpp>

#include "autoencoders/autorec.hpp"
#include "autoencoders/trainer.hpp"
#include "helpers.hpp"
#include "nn/ratings.hpp"

using namespace test;
using ad::Tensor;
using V = std::vector<Tensor64>;

namespace {

// A file the test writes, removed when done.
struct TempFile {
  std::string path;
  TempFile(const std::string& name, const std::string& text) : path("test_recommender_" + name) {
    std::ofstream(path, std::ios::binary) << text;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

bool has(const nn::Ratings& r, std::size_t user, std::size_t item, float value) {
  for (const nn::Rating& e : r.entries)
    if (e.user == user && e.item == item) return e.value == value;
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(reads_u_data) {
  // MovieLens 100K: user item rating timestamp, tab-separated; ids remapped in increasing order
  TempFile f("u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n196\t377\t4\t1\n");
  const nn::Ratings r = nn::read_ratings(f.path);
  BOOST_TEST(r.users == 3u);
  BOOST_TEST(r.items == 3u);
  BOOST_TEST(r.size() == 4u);
  BOOST_TEST(r.user_ids == (std::vector<std::uint64_t>{22, 186, 196}), boost::test_tools::per_element());
  BOOST_TEST(r.item_ids == (std::vector<std::uint64_t>{242, 302, 377}), boost::test_tools::per_element());
  BOOST_TEST(has(r, 2, 0, 3));  // user 196, item 242
  BOOST_TEST(has(r, 1, 1, 3));  // user 186, item 302
  BOOST_TEST(has(r, 0, 2, 1));  // user 22, item 377
  BOOST_TEST(has(r, 2, 2, 4));  // user 196, item 377
  BOOST_TEST(std::abs(r.density() - 4.0 / 9.0) < 1e-12);
  BOOST_TEST(r.source.find("u.data") != std::string::npos);
  // the matrices: item i's ratings by every user, 0 where not rated
  const Tensor items = nn::item_vectors(r);
  BOOST_TEST(items.shape() == (ad::Shape{3, 3}), boost::test_tools::per_element());
  const std::vector<float> expected{0, 0, 3, 0, 3, 0, 1, 0, 4};  // rows: items 242, 302, 377; columns: users 22, 186, 196
  BOOST_TEST(std::vector<float>(items.data(), items.data() + 9) == expected, boost::test_tools::per_element());
  const Tensor users = nn::user_vectors(r);
  BOOST_TEST(users.value()(2, 0) == 3.0f);
  BOOST_TEST(users.value()(0, 2) == 1.0f);
}

BOOST_AUTO_TEST_CASE(reads_ratings_dat) {
  // MovieLens 1M: user::item::rating::timestamp; a Windows line end and a trailing blank line are fine
  TempFile f("ratings.dat", "1::1193::5::978300760\r\n1::661::3::978302109\n2::1193::4::978301968\n\n");
  const nn::Ratings r = nn::read_ratings(f.path);
  BOOST_TEST(r.users == 2u);
  BOOST_TEST(r.items == 2u);
  BOOST_TEST(r.size() == 3u);
  BOOST_TEST(r.item_ids == (std::vector<std::uint64_t>{661, 1193}), boost::test_tools::per_element());
  BOOST_TEST(has(r, 0, 1, 5));
  BOOST_TEST(has(r, 0, 0, 3));
  BOOST_TEST(has(r, 1, 1, 4));
}

BOOST_AUTO_TEST_CASE(reads_ratings_csv) {
  // MovieLens latest: a header, then userId,movieId,rating,timestamp with half stars
  TempFile f("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n5,1,0.5,1\n");
  const nn::Ratings r = nn::read_ratings(f.path);
  BOOST_TEST(r.users == 2u);
  BOOST_TEST(r.items == 2u);
  BOOST_TEST(r.user_ids == (std::vector<std::uint64_t>{1, 5}), boost::test_tools::per_element());
  BOOST_TEST(has(r, 0, 0, 4.0f));
  BOOST_TEST(has(r, 0, 1, 4.5f));
  BOOST_TEST(has(r, 1, 0, 0.5f));
  BOOST_TEST(r.source.find("ratings.csv") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_lines_are_refused_with_file_and_line) {
  struct Case {
    std::string name, text, says;
  };
  const std::vector<Case> cases = {
      {"fields.data", "1\t2\t3\t4\n1\t3\t4\t5\n1\t4\t5\n", "expected 4 fields"},
      {"rating.data", "1\t2\t3\t4\n1\t3\t4\t5\n1\t4\tfive\t6\n", "rating 'five'"},
      {"zero.dat", "1::2::3::4\n1::3::4::5\n1::4::0::6\n", "not a positive number"},
      {"id.dat", "1::2::3::4\n1::3::4::5\nx::4::5::6\n", "user id 'x'"},
      {"item.csv", "userId,movieId,rating,timestamp\n1,2,3.0,4\n1,-4,5.0,6\n", "item id '-4'"},
      {"stamp.csv", "userId,movieId,rating,timestamp\n1,2,3.0,4\n1,4,5.0,\n", "timestamp ''"},
      {"duplicate.data", "1\t2\t3\t4\n7\t3\t4\t5\n7\t3\t5\t6\n", "first at line 2"},
      {"mixed.data", "1\t2\t3\t4\n1\t3\t4\t5\n1::4::5::6\n", "expected 4 fields"},
  };
  for (const Case& c : cases) {
    TempFile f(c.name, c.text);
    std::string message;
    BOOST_TEST_CONTEXT(c.name) {
      BOOST_TEST(throws_with([&] { nn::read_ratings(f.path); }, {f.path, "line 3", c.says}, &message), message);
    }
  }
  // a csv without its header, an unknown format, an empty file, a missing file
  TempFile no_header("noheader.csv", "1,2,3.0,4\n");
  BOOST_TEST(throws_with([&] { nn::read_ratings(no_header.path); }, {no_header.path, "line 1", "header"}));
  TempFile spaces("spaces.txt", "1 2 3 4\n");
  BOOST_TEST(throws_with([&] { nn::read_ratings(spaces.path); }, {spaces.path, "line 1", "not a MovieLens ratings file"}));
  TempFile empty("empty.data", "\n");
  BOOST_TEST(throws_with([&] { nn::read_ratings(empty.path); }, {empty.path, "no ratings"}));
  BOOST_TEST(throws_with([&] { nn::read_ratings("no/such/u.data"); }, {"no/such/u.data", "cannot open"}));
}

BOOST_AUTO_TEST_CASE(synthetic_matrix_is_deterministic_low_rank_and_as_sparse_as_asked) {
  const auto options = nn::SyntheticRatingsOptions().users(40).items(60).rank(3).density(0.2);
  const nn::SyntheticRatings a = nn::synthetic_ratings(options, 7), b = nn::synthetic_ratings(options, 7),
                             c = nn::synthetic_ratings(options, 8);
  // the same seed gives the same matrix, another seed another one
  BOOST_TEST(a.scores == b.scores, boost::test_tools::per_element());
  BOOST_REQUIRE(a.ratings.size() == b.ratings.size());
  for (std::size_t k = 0; k < a.ratings.size(); ++k) {
    BOOST_TEST(a.ratings.entries[k].user == b.ratings.entries[k].user);
    BOOST_TEST(a.ratings.entries[k].item == b.ratings.entries[k].item);
    BOOST_TEST(a.ratings.entries[k].value == b.ratings.entries[k].value);
  }
  BOOST_TEST(a.scores != c.scores);
  // exactly round(density · users · items) distinct entries, integer ratings 1..5
  BOOST_TEST(a.ratings.size() == 480u);
  BOOST_TEST(std::abs(a.ratings.density() - 0.2) < 1e-12);
  std::set<std::pair<std::size_t, std::size_t>> cells;
  for (const nn::Rating& r : a.ratings.entries) {
    cells.insert({r.user, r.item});
    BOOST_TEST((r.value >= 1 && r.value <= 5 && r.value == std::round(r.value)));
  }
  BOOST_TEST(cells.size() == 480u);
  // the noise-free scores have rank 3 + 2 (the two biases): the Gram matrix S Sᵀ has 5 non-zero eigenvalues
  xt::xtensor<double, 2> s = xt::zeros<double>({std::size_t{40}, std::size_t{60}});
  for (std::size_t u = 0; u < 40; ++u)
    for (std::size_t i = 0; i < 60; ++i) s(u, i) = a.scores[u * 60 + i];
  const xt::xtensor<double, 2> gram = xt::linalg::dot(s, xt::transpose(s));
  const auto eig = std::get<0>(xt::linalg::eigh(gram));  // ascending
  const double largest = eig(39);
  BOOST_TEST(eig(35) > 1e-6 * largest);  // the 5th largest
  BOOST_TEST(eig(34) < 1e-10 * largest);  // the 6th
  // and the ratings follow them: the correlation of rounded ratings with their scores is high
  double sxy = 0, sxx = 0, syy = 0, mx = 0, my = 0;
  for (const nn::Rating& r : a.ratings.entries) mx += a.scores[r.user * 60 + r.item], my += r.value;
  mx /= 480, my /= 480;
  for (const nn::Rating& r : a.ratings.entries) {
    const double dx = a.scores[r.user * 60 + r.item] - mx, dy = r.value - my;
    sxy += dx * dy, sxx += dx * dx, syy += dy * dy;
  }
  BOOST_TEST(sxy / std::sqrt(sxx * syy) > 0.7);
  // MovieLens-like skew at the default size: the most rated item has many times the median item's ratings
  const nn::SyntheticRatings ml = nn::synthetic_ratings(nn::SyntheticRatingsOptions(), 1);
  BOOST_TEST(ml.ratings.size() == 100000u);
  std::vector<std::size_t> per_item(ml.ratings.items, 0);
  for (const nn::Rating& r : ml.ratings.entries) ++per_item[r.item];
  std::sort(per_item.begin(), per_item.end());
  BOOST_TEST(per_item.back() > 5 * per_item[per_item.size() / 2]);
}

BOOST_AUTO_TEST_CASE(split_is_a_partition_from_the_seed) {
  const nn::Ratings all = nn::synthetic_ratings(nn::SyntheticRatingsOptions().users(30).items(40).rank(2).density(0.25), 3).ratings;
  const nn::RatingsSplit s = nn::split_ratings(all, 0.1, 4), again = nn::split_ratings(all, 0.1, 4);
  BOOST_TEST(s.test.size() == 30u);
  BOOST_TEST(s.train.size() == 270u);
  std::set<std::pair<std::size_t, std::size_t>> train, test;
  for (const nn::Rating& r : s.train.entries) train.insert({r.user, r.item});
  for (const nn::Rating& r : s.test.entries) {
    test.insert({r.user, r.item});
    BOOST_TEST(train.count({r.user, r.item}) == 0u);
  }
  BOOST_TEST(train.size() + test.size() == all.size());
  BOOST_TEST(s.train.users == all.users);
  BOOST_TEST(s.test.items == all.items);
  for (std::size_t k = 0; k < s.test.size(); ++k) BOOST_TEST(s.test.entries[k].item == again.test.entries[k].item);
  // the baselines by hand
  double sum = 0;
  for (const nn::Rating& r : s.train.entries) sum += r.value;
  BOOST_TEST(std::abs(nn::global_mean(s.train) - sum / 270) < 1e-12);
  const std::vector<double> means = nn::item_means(s.train);
  double item0 = 0, n0 = 0;
  for (const nn::Rating& r : s.train.entries)
    if (r.item == 0) item0 += r.value, n0 += 1;
  BOOST_TEST(std::abs(means[0] - (n0 > 0 ? item0 / n0 : sum / 270)) < 1e-12);
}

BOOST_AUTO_TEST_CASE(autorec_loss_ignores_unobserved_entries) {
  ad::Generator gen(5);
  ae::AutoRec model(ae::AutoRecOptions().input(6).hidden(4).lambda(0.01), gen);
  const Tensor input = Tensor::from_vector({5, 0, 3, 0, 0, 1, 0, 2, 0, 4, 4, 0}, {2, 6});
  const Tensor mask = ae::observed(input);
  BOOST_TEST(std::vector<float>(mask.data(), mask.data() + 12) ==
                 (std::vector<float>{1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0}),
             boost::test_tools::per_element());
  auto loss_and_grads = [&](const Tensor& target) {
    model.zero_grad();
    const ae::Loss l = model.loss(input, target, mask);
    l.total.backward();
    std::vector<std::vector<float>> grads;
    for (const auto& [name, p] : model.named_parameters()) grads.emplace_back(p.grad().data(), p.grad().data() + p.numel());
    return std::make_pair(l.total.item(), grads);
  };
  const auto base = loss_and_grads(input);
  // loss(r) takes its mask from r: the same number
  BOOST_TEST(model.loss(input).total.item() == base.first);
  // an unobserved target changed (entry [0, 1] and [1, 5]): nothing changes, bit for bit
  Tensor changed = input.detach();
  changed.data()[1] = 5;
  changed.data()[11] = -3;
  const auto same = loss_and_grads(changed);
  BOOST_TEST(same.first == base.first);
  BOOST_TEST(same.second.size() == 4u);
  for (std::size_t k = 0; k < base.second.size(); ++k) BOOST_TEST(same.second[k] == base.second[k], boost::test_tools::per_element());
  // an observed target changed: the loss changes
  Tensor observed_changed = input.detach();
  observed_changed.data()[0] = 1;
  BOOST_TEST(loss_and_grads(observed_changed).first != base.first);
  // the terms: the masked squared error per item by hand, and λ/2 (‖W‖² + ‖V‖²)
  model.eval();
  const Tensor h = model.reconstruct(input);
  double error = 0, l2 = 0;
  for (std::size_t k = 0; k < 12; ++k) error += mask.data()[k] * std::pow(double(input.data()[k]) - h.data()[k], 2);
  for (const Tensor* w : {&model.encoder->weight, &model.decoder->weight})
    for (std::size_t k = 0; k < w->numel(); ++k) l2 += double(w->data()[k]) * w->data()[k];
  const ae::Loss l = model.loss(input);
  BOOST_TEST(std::abs(l.term("reconstruction") - error / 2) < 1e-5 * error);
  BOOST_TEST(std::abs(l.term("l2") - l2) < 1e-5 * l2);
  BOOST_TEST(std::abs(l.total.item() - (error / 2 + 0.005 * l2)) < 1e-5 * l.total.item());
}

BOOST_AUTO_TEST_CASE(gradcheck_autorec_objective) {
  // the objective in float64, in every parameter and in the input
  const Tensor64 r = uniform({3, 5}, 31, 1, 5), t = uniform({3, 5}, 32, 1, 5);
  ad::Generator coin(33);
  const Tensor64 mask = ad::bernoulli<double>({3, 5}, 0.5, coin);
  const Tensor64 v = uniform({4, 5}, 34), mu = uniform({4}, 35), w = uniform({5, 4}, 36), b = uniform({5}, 37);
  const double lambda = 0.3;
  auto objective = [&](const V& in) {
    const Tensor64 h = ae::autorec_reconstruct(in[0], in[1], in[2], in[3], in[4]);
    const Tensor64 l2 = ad::add(ad::sum(ad::square(in[3])), ad::sum(ad::square(in[1])));
    return ad::add(ae::masked_squared_error(h, t, mask), ad::mul(l2, lambda / 2));
  };
  CHECK_GRADCHECK(objective, r, v, mu, w, b);
  // and the float model computes the same objective
  ad::Generator gen(38);
  ae::AutoRec model(ae::AutoRecOptions().input(5).hidden(4).lambda(lambda), gen);
  const Tensor input = ad::cast<float>(r);
  const Tensor target = ad::cast<float>(t), fmask = ad::cast<float>(mask);
  const double in_float = model.loss(input, target, fmask).total.item();
  // the double objective at the model's parameters and the float-rounded input
  const double at_rounded = objective({ad::cast<double>(input), ad::cast<double>(model.encoder->weight),
                                       ad::cast<double>(model.encoder->bias), ad::cast<double>(model.decoder->weight),
                                       ad::cast<double>(model.decoder->bias)})
                                .item();
  BOOST_TEST(std::abs(in_float - at_rounded) < 1e-5 * std::abs(at_rounded));
}

BOOST_AUTO_TEST_CASE(short_training_beats_the_item_mean) {
  // a small synthetic matrix: the held-out RMSE of I-AutoRec below the item mean's, which is below the global mean's
  const nn::Ratings all = nn::synthetic_ratings(nn::SyntheticRatingsOptions().users(300).items(500).density(0.1), 11).ratings;
  const nn::RatingsSplit s = nn::split_ratings(all, 0.1, 12);
  const double mu = nn::global_mean(s.train);
  const std::vector<double> means = nn::item_means(s.train);
  const double rmse_global = nn::rmse(s.test, [&](std::size_t, std::size_t) { return mu; });
  const double rmse_item = nn::rmse(s.test, [&](std::size_t, std::size_t i) { return means[i]; });
  ad::Generator init(13), order(14);
  ae::AutoRec model(ae::AutoRecOptions().input(300).hidden(200).lambda(0.1), init);
  const Tensor x = nn::item_vectors(s.train);
  nn::DataLoader loader(x, {}, 32, order);
  nn::Adam adam(model.named_parameters(), 1e-3);
  const auto history = ae::fit(model, loader, adam, 60);
  BOOST_TEST(history.back().term("reconstruction") < history.front().term("reconstruction"));
  model.eval();
  const Tensor p = ae::map_batches(x, [&](const Tensor& b) { return model.reconstruct(b); });
  const double rmse_autorec =
      nn::rmse(s.test, [&](std::size_t u, std::size_t i) { return std::clamp<double>(p.data()[i * 300 + u], 1, 5); });
  BOOST_TEST_MESSAGE("held-out RMSE: global mean " << rmse_global << ", item mean " << rmse_item << ", I-AutoRec " << rmse_autorec);
  BOOST_TEST(rmse_item < rmse_global);
  BOOST_TEST(rmse_autorec < rmse_item - 0.02);
}
