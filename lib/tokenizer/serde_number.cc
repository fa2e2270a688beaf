#include "lib/tokenizer/serde_number.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace llmtk {
namespace {

// serde_json's POW10: the f64 literals 1e0 ... 1e308, each correctly rounded
// (repeated multiplication would not be past 1e22).
const std::array<double, 309>& Pow10() {
  static const std::array<double, 309> table = [] {
    std::array<double, 309> t{};
    for (int i = 0; i < 309; ++i) {
      const std::string s = absl::StrCat("1e", i);
      std::from_chars(s.data(), s.data() + s.size(), t[i]);
    }
    return t;
  }();
  return table;
}

// serde_json's overflow!(sig * 10 + digit, u64::MAX).
bool Overflows(uint64_t sig, uint64_t digit) {
  constexpr uint64_t kMax = UINT64_MAX;
  return sig >= kMax / 10 && (sig > kMax / 10 || digit > kMax % 10);
}

int32_t SaturatingAdd(int32_t a, int32_t b) {
  const int64_t r = static_cast<int64_t>(a) + b;
  return static_cast<int32_t>(std::clamp<int64_t>(r, INT32_MIN, INT32_MAX));
}

// f64_from_parts without float_roundtrip: the u64 rounded to f64, then one
// multiplication or division by a table power (two roundings in all).
std::optional<double> FromParts(bool positive, uint64_t sig, int32_t exp) {
  double f = static_cast<double>(sig);
  const auto& pow10 = Pow10();
  while (true) {
    // Rust's exponent.wrapping_abs() as usize: i32::MIN stays out of the table.
    const uint32_t a = exp < 0 ? 0u - static_cast<uint32_t>(exp) : static_cast<uint32_t>(exp);
    if (a < pow10.size()) {
      if (exp >= 0) {
        f *= pow10[a];
        if (std::isinf(f)) return std::nullopt;
      } else {
        f /= pow10[a];
      }
      break;
    }
    if (f == 0.0) break;
    if (exp >= 0) return std::nullopt;
    f /= 1e308;
    exp += 308;
  }
  return positive ? f : -f;
}

}  // namespace

std::optional<double> SerdeJsonF64(std::string_view s) {
  size_t i = 0;
  const bool positive = s.empty() || s[0] != '-';
  if (!positive) ++i;
  auto digit_at = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  if (!digit_at(i)) return std::nullopt;
  uint64_t sig = 0;
  int32_t exp = 0;
  bool integer = true;
  if (s[i] == '0') {
    ++i;
    if (digit_at(i)) return std::nullopt;  // one leading zero only
  } else {
    for (; digit_at(i); ++i) {
      const uint64_t d = static_cast<uint64_t>(s[i] - '0');
      if (Overflows(sig, d)) {
        // parse_long_integer: the integer digits left only scale it.
        integer = false;
        for (; digit_at(i); ++i) ++exp;
        break;
      }
      sig = sig * 10 + d;
    }
  }
  if (i < s.size() && s[i] == '.') {
    integer = false;
    ++i;
    if (!digit_at(i)) return std::nullopt;
    // Fraction digits join the u64 until one would overflow it; that one
    // and all after it are dropped (parse_decimal_overflow).
    bool dropping = false;
    for (; digit_at(i); ++i) {
      const uint64_t d = static_cast<uint64_t>(s[i] - '0');
      if (dropping || Overflows(sig, d)) {
        dropping = true;
        continue;
      }
      sig = sig * 10 + d;
      --exp;
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    integer = false;
    ++i;
    bool positive_exp = true;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) positive_exp = s[i++] == '+';
    if (!digit_at(i)) return std::nullopt;
    int32_t e = 0;
    for (; digit_at(i); ++i) {
      const int32_t d = s[i] - '0';
      if (e >= INT32_MAX / 10 && (e > INT32_MAX / 10 || d > INT32_MAX % 10)) {
        // parse_exponent_overflow: zero, or out of range.
        if (sig != 0 && positive_exp) return std::nullopt;
        for (; digit_at(i); ++i) {
        }
        if (i != s.size()) return std::nullopt;
        return positive ? 0.0 : -0.0;
      }
      e = e * 10 + d;
    }
    exp = positive_exp ? SaturatingAdd(exp, e) : SaturatingAdd(exp, -e);
  }
  if (i != s.size()) return std::nullopt;
  // An integer is a u64 or i64, which the f64 visitor converts (`as f64`).
  if (integer) return positive ? static_cast<double>(sig) : -static_cast<double>(sig);
  return FromParts(positive, sig, exp);
}

absl::StatusOr<std::vector<double>> SerdeUnigramScores(std::string_view json, const std::string& source) {
  auto bad = [&](std::string_view what) {
    return absl::DataLossError(absl::StrCat(source, ": model.vocab: ", ToAbsl(what)));
  };
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return bad("not valid JSON");
  simdjson::ondemand::array vocab;
  if (doc["model"]["vocab"].get_array().get(vocab) != simdjson::SUCCESS) return bad("missing or not an array");
  std::vector<double> scores;
  for (auto entry : vocab) {
    const std::string where = absl::StrCat("entry ", scores.size(), " is not [piece, score]");
    simdjson::ondemand::array pair;
    if (entry.get_array().get(pair) != simdjson::SUCCESS) return bad(where);
    size_t k = 0;
    for (auto item : pair) {
      simdjson::ondemand::value v;
      if (item.get(v) != simdjson::SUCCESS) return bad(where);
      if (k++ != 1) continue;
      std::string_view raw = v.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' || raw.back() == '\r')) {
        raw.remove_suffix(1);
      }
      std::optional<double> f = SerdeJsonF64(raw);
      if (!f) return bad(absl::StrCat("entry ", scores.size(), ": score ", ToAbsl(raw), " is not a number in f64's range"));
      scores.push_back(*f);
    }
    if (k != 2) return bad(where);
  }
  return scores;
}

}  // namespace llmtk
