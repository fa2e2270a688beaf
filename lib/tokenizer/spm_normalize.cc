#include "lib/tokenizer/spm_normalize.h"

#include <algorithm>

#include "lib/base/unicode.h"

namespace llmtk {

PrefixMatcher::PrefixMatcher(const std::vector<std::string>& symbols) {
  for (const std::string& s : symbols) {
    if (s.empty()) continue;
    by_first_[static_cast<uint8_t>(s[0])].push_back(s);
    ++count_;
  }
  for (auto& v : by_first_) {
    std::sort(v.begin(), v.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }
}

size_t PrefixMatcher::Match(std::string_view s) const {
  if (s.empty() || count_ == 0) return 0;
  for (const std::string& sym : by_first_[static_cast<uint8_t>(s[0])])
    if (s.substr(0, sym.size()) == sym) return sym.size();
  return 0;
}

std::string_view SpmNormalizer::Prefix(std::string_view in, size_t* consumed) const {
  if (size_t n = user_defined_.Match(in); n > 0) {
    *consumed = n;
    return in.substr(0, n);
  }
  std::string_view rep;
  if (size_t n = charsmap_.Longest(in, &rep); n > 0) {
    *consumed = n;
    return rep;
  }
  size_t p = 0;
  DecodeUtf8(in, &p);
  *consumed = std::max<size_t>(p, 1);
  return in.substr(0, *consumed);
}

void SpmNormalizer::Normalize(std::string_view in, std::string* out) const {
  out->clear();
  const SpmNormalizerOptions& o = options_;
  size_t n = 0;
  if (o.remove_extra_whitespaces) {
    while (!in.empty() && Prefix(in, &n) == " ") in.remove_prefix(n);
  }
  if (in.empty()) return;
  const std::string_view space = o.escape_whitespaces ? kSpmSpace : std::string_view(" ");
  if (!o.treat_whitespace_as_suffix && o.add_dummy_prefix) out->append(space);
  bool prev_space = o.remove_extra_whitespaces;
  while (!in.empty()) {
    std::string_view sp = Prefix(in, &n);
    while (prev_space && !sp.empty() && sp[0] == ' ') sp.remove_prefix(1);
    if (!sp.empty()) {
      for (char c : sp) {
        if (c == ' ' && o.escape_whitespaces) {
          out->append(kSpmSpace);
        } else {
          out->push_back(c);
        }
      }
      prev_space = sp.back() == ' ';
    }
    in.remove_prefix(n);
    if (!o.remove_extra_whitespaces) prev_space = false;
  }
  if (o.remove_extra_whitespaces) {
    while (out->size() >= space.size() && std::string_view(*out).substr(out->size() - space.size()) == space)
      out->resize(out->size() - space.size());
  }
  if (o.treat_whitespace_as_suffix && o.add_dummy_prefix) out->append(space);
}

}  // namespace llmtk
