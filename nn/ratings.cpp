#include "nn/ratings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numeric>
#include <unordered_map>

namespace nn {

double Ratings::density() const {
  return users && items ? static_cast<double>(entries.size()) / (static_cast<double>(users) * static_cast<double>(items)) : 0.0;
}

RatingsFormat detect_ratings_format(const std::string& first_line) {
  if (first_line.find("::") != std::string::npos) return RatingsFormat::DoubleColon;
  if (first_line.find('\t') != std::string::npos) return RatingsFormat::Tab;
  if (first_line.find(',') != std::string::npos) return RatingsFormat::Csv;
  throw ad::Error("not a MovieLens ratings file: the first line has no tab (u.data), '::' (ratings.dat) or comma (ratings.csv)");
}

std::string format_name(RatingsFormat f) {
  switch (f) {
    case RatingsFormat::Tab: return "u.data (user<TAB>item<TAB>rating<TAB>timestamp)";
    case RatingsFormat::DoubleColon: return "ratings.dat (user::item::rating::timestamp)";
    case RatingsFormat::Csv: return "ratings.csv (userId,movieId,rating,timestamp)";
  }
  return "?";
}

namespace {

std::vector<std::string> split(const std::string& line, const std::string& sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t at; (at = line.find(sep, start)) != std::string::npos; start = at + sep.size()) out.push_back(line.substr(start, at - start));
  out.push_back(line.substr(start));
  return out;
}

bool parse_id(const std::string& s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  out = std::stoull(s);
  return true;
}

bool parse_number(const std::string& s, double& out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s.front()))) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(s.c_str(), &end);
  return errno == 0 && end == s.c_str() + s.size() && std::isfinite(out);
}

// Dense indices 0.. in increasing order of id.
std::vector<std::uint64_t> sorted_unique(std::vector<std::uint64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}
std::size_t index_of(const std::vector<std::uint64_t>& sorted, std::uint64_t id) {
  return static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), id) - sorted.begin());
}

}  // namespace

Ratings read_ratings(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ad::Error("cannot open the ratings file " + path);
  struct Raw {
    std::uint64_t user, item;
    float value;
  };
  std::vector<Raw> raw;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::size_t> seen;  // (user, item) → line
  bool have_format = false;
  RatingsFormat format = RatingsFormat::Tab;
  std::string sep, layout;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines (a trailing newline)
    const std::string where = path + ", line " + std::to_string(number) + ": ";
    if (!have_format) {
      try {
        format = detect_ratings_format(line);
      } catch (const ad::Error& e) {
        throw ad::Error(where + e.what());
      }
      have_format = true;
      sep = format == RatingsFormat::Tab ? "\t" : format == RatingsFormat::DoubleColon ? "::" : ",";
      layout = format == RatingsFormat::Tab ? "user<TAB>item<TAB>rating<TAB>timestamp"
               : format == RatingsFormat::DoubleColon ? "user::item::rating::timestamp"
                                                     : "userId,movieId,rating,timestamp";
      if (format == RatingsFormat::Csv) {  // the header
        const auto fields = split(line, sep);
        std::uint64_t id;
        if (fields.size() != 4 || parse_id(fields[0], id))
          throw ad::Error(where + "a ratings.csv starts with the header userId,movieId,rating,timestamp, not '" + line + "'");
        continue;
      }
    }
    const auto fields = split(line, sep);
    if (fields.size() != 4)
      throw ad::Error(where + "expected 4 fields " + layout + ", found " + std::to_string(fields.size()) + " in '" + line + "'");
    Raw r{};
    double value = 0, timestamp = 0;
    if (!parse_id(fields[0], r.user)) throw ad::Error(where + "the user id '" + fields[0] + "' is not a non-negative integer");
    if (!parse_id(fields[1], r.item)) throw ad::Error(where + "the item id '" + fields[1] + "' is not a non-negative integer");
    if (!parse_number(fields[2], value) || value <= 0)
      throw ad::Error(where + "the rating '" + fields[2] + "' is not a positive number");
    if (!parse_number(fields[3], timestamp)) throw ad::Error(where + "the timestamp '" + fields[3] + "' is not a number");
    r.value = static_cast<float>(value);
    const auto [it, fresh] = seen.emplace(std::make_pair(r.user, r.item), number);
    if (!fresh)
      throw ad::Error(where + "user " + fields[0] + " rates item " + fields[1] + " a second time (first at line " +
                      std::to_string(it->second) + ")");
    raw.push_back(r);
  }
  if (in.bad()) throw ad::Error("cannot read the ratings file " + path);
  if (raw.empty()) throw ad::Error("the ratings file " + path + " has no ratings");

  Ratings out;
  out.source = path + ", read as " + format_name(format);
  std::vector<std::uint64_t> users, items;
  for (const Raw& r : raw) users.push_back(r.user), items.push_back(r.item);
  out.user_ids = sorted_unique(std::move(users));
  out.item_ids = sorted_unique(std::move(items));
  out.users = out.user_ids.size();
  out.items = out.item_ids.size();
  out.entries.reserve(raw.size());
  for (const Raw& r : raw) out.entries.push_back({index_of(out.user_ids, r.user), index_of(out.item_ids, r.item), r.value});
  return out;
}

SyntheticRatings synthetic_ratings(const SyntheticRatingsOptions& o, std::uint64_t seed) {
  if (o.users() == 0 || o.items() == 0 || o.rank() == 0) throw ad::Error("synthetic_ratings: users, items and rank must be positive");
  if (!(o.density() > 0 && o.density() <= 1)) throw ad::Error("synthetic_ratings: the density must be in (0, 1]");
  const std::size_t U = o.users(), I = o.items(), K = o.rank();
  ad::Generator gen(seed);
  auto normals = [&](std::size_t n, double sd) {
    std::vector<double> v(n);
    for (double& x : v) x = sd * gen.normal();
    return v;
  };
  // the scores: S = μ + b_u + c_i + p_u · q_i, with p_u · q_i of standard deviation `interaction`
  const std::vector<double> b = normals(U, o.user_bias()), c = normals(I, o.item_bias());
  const std::vector<double> p = normals(U * K, 1.0), q = normals(I * K, 1.0);
  const double scale = o.interaction() / std::sqrt(static_cast<double>(K));
  SyntheticRatings out;
  out.scores.resize(U * I);
  for (std::size_t u = 0; u < U; ++u)
    for (std::size_t i = 0; i < I; ++i) {
      double dot = 0;
      for (std::size_t k = 0; k < K; ++k) dot += p[u * K + k] * q[i * K + k];
      out.scores[u * I + i] = o.mean() + b[u] + c[i] + scale * dot;
    }
  // which entries are observed: weighted sampling without replacement (Efraimidis & Spirakis: the n largest
  // u^(1/w), compared as log(u) / w), weights a_u · w_i log-normal
  const std::vector<double> activity = normals(U, o.activity_spread()), popularity = normals(I, o.popularity_spread());
  std::vector<double> key(U * I);
  for (std::size_t u = 0; u < U; ++u)
    for (std::size_t i = 0; i < I; ++i) {
      const double uniform = std::max(gen.uniform(), 1e-300);
      key[u * I + i] = std::log(uniform) * std::exp(-(activity[u] + popularity[i]));
    }
  const std::size_t n = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(o.density() * static_cast<double>(U * I))));
  std::vector<std::size_t> cells(U * I);
  std::iota(cells.begin(), cells.end(), 0);
  std::nth_element(cells.begin(), cells.begin() + static_cast<std::ptrdiff_t>(n - 1), cells.end(),
                   [&](std::size_t a, std::size_t z) { return key[a] > key[z] || (key[a] == key[z] && a < z); });
  cells.resize(n);
  std::sort(cells.begin(), cells.end());
  Ratings& r = out.ratings;
  r.users = U;
  r.items = I;
  for (std::size_t u = 0; u < U; ++u) r.user_ids.push_back(u + 1);
  for (std::size_t i = 0; i < I; ++i) r.item_ids.push_back(i + 1);
  r.entries.reserve(n);
  for (std::size_t cell : cells) {
    const double noisy = out.scores[cell] + o.noise() * gen.normal();
    r.entries.push_back({cell / I, cell % I, static_cast<float>(std::clamp(std::round(noisy), 1.0, 5.0))});
  }
  r.source = "synthetic low-rank ratings, " + std::to_string(U) + " users x " + std::to_string(I) + " items, rank " + std::to_string(K) +
             " (+2 for the biases), " + std::to_string(n) + " ratings 1-5, seed " + std::to_string(seed);
  return out;
}

RatingsSplit split_ratings(const Ratings& ratings, double test_fraction, std::uint64_t seed) {
  if (!(test_fraction >= 0 && test_fraction < 1)) throw ad::Error("split_ratings: the test fraction must be in [0, 1)");
  std::vector<std::size_t> order(ratings.size());
  std::iota(order.begin(), order.end(), 0);
  ad::Generator gen(seed);
  gen.shuffle(order.begin(), order.end());
  const std::size_t n_test = static_cast<std::size_t>(std::llround(test_fraction * static_cast<double>(order.size())));
  std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_test));  // each part in the original order
  std::sort(order.begin() + static_cast<std::ptrdiff_t>(n_test), order.end());
  RatingsSplit s;
  for (Ratings* part : {&s.train, &s.test}) {
    part->users = ratings.users;
    part->items = ratings.items;
    part->user_ids = ratings.user_ids;
    part->item_ids = ratings.item_ids;
  }
  s.test.source = ratings.source + " [test]";
  s.train.source = ratings.source + " [train]";
  for (std::size_t k = 0; k < order.size(); ++k) (k < n_test ? s.test : s.train).entries.push_back(ratings.entries[order[k]]);
  return s;
}

ad::Tensor item_vectors(const Ratings& ratings) {
  ad::Tensor m = ad::Tensor::zeros({ratings.items, ratings.users});
  for (const Rating& r : ratings.entries) m.data()[r.item * ratings.users + r.user] = r.value;
  return m;
}

ad::Tensor user_vectors(const Ratings& ratings) {
  ad::Tensor m = ad::Tensor::zeros({ratings.users, ratings.items});
  for (const Rating& r : ratings.entries) m.data()[r.user * ratings.items + r.item] = r.value;
  return m;
}

double global_mean(const Ratings& train) {
  if (train.entries.empty()) throw ad::Error("global_mean: no ratings");
  double sum = 0;
  for (const Rating& r : train.entries) sum += r.value;
  return sum / static_cast<double>(train.entries.size());
}

std::vector<double> item_means(const Ratings& train) {
  const double mu = global_mean(train);
  std::vector<double> sum(train.items, 0.0), count(train.items, 0.0);
  for (const Rating& r : train.entries) sum[r.item] += r.value, count[r.item] += 1;
  std::vector<double> means(train.items);
  for (std::size_t i = 0; i < train.items; ++i) means[i] = count[i] > 0 ? sum[i] / count[i] : mu;
  return means;
}

}  // namespace nn
