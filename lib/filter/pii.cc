#include "lib/filter/pii.h"

#include <array>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace llmtk {

namespace {
constexpr std::string_view kEmailPattern =
    R"(\b[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:(?:[a-z0-9](?:[a-z0-9-]*[)"
    R"(a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[)"
    R"(0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?|[a-z0-9-]*[a-z0-9]:)]))";
constexpr std::string_view kIpPattern =
    R"((?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?))";
constexpr std::string_view kEmailReplacements[] = {"email@example.com", "firstname.lastname@example.org"};
constexpr std::string_view kIpReplacements[] = {"22.214.171.124", "126.96.36.199", "188.8.131.52",
                                                "184.108.40.206", "220.127.116.11", "18.104.22.168"};

struct Net {
  uint32_t base;
  int bits;
};
constexpr uint32_t Ip(uint32_t a, uint32_t b, uint32_t c, uint32_t d) { return a << 24 | b << 16 | c << 8 | d; }
// Python 3.11 ipaddress: IPv4Address.is_private's networks, and the shared
// address space that is_global excludes too.
constexpr Net kNotGlobal[] = {
    {Ip(0, 0, 0, 0), 8},       {Ip(10, 0, 0, 0), 8},      {Ip(127, 0, 0, 0), 8},     {Ip(169, 254, 0, 0), 16},
    {Ip(172, 16, 0, 0), 12},   {Ip(192, 0, 0, 0), 29},    {Ip(192, 0, 0, 170), 31},  {Ip(192, 0, 2, 0), 24},
    {Ip(192, 168, 0, 0), 16},  {Ip(198, 18, 0, 0), 15},   {Ip(198, 51, 100, 0), 24}, {Ip(203, 0, 113, 0), 24},
    {Ip(240, 0, 0, 0), 4},     {Ip(255, 255, 255, 255), 32}, {Ip(100, 64, 0, 0), 10}};
}  // namespace

bool IsPublicIpv4(std::string_view s) {
  std::vector<absl::string_view> parts = absl::StrSplit(ToAbsl(s), '.');
  if (parts.size() != 4) return false;
  uint32_t ip = 0;
  for (absl::string_view p : parts) {
    uint32_t v;
    if (p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0') || !absl::SimpleAtoi(p, &v) || v > 255)
      return false;
    ip = ip << 8 | v;
  }
  for (const Net& n : kNotGlobal) {
    const uint32_t mask = n.bits == 0 ? 0 : ~uint32_t{0} << (32 - n.bits);
    if ((ip & mask) == n.base) return false;
  }
  return true;
}

absl::StatusOr<std::unique_ptr<PiiReplacer>> PiiReplacer::Create() {
  auto r = std::unique_ptr<PiiReplacer>(new PiiReplacer());
  ASSIGN_OR_RETURN(r->email_, Regex::Compile(kEmailPattern));
  ASSIGN_OR_RETURN(r->ip_, Regex::Compile(kIpPattern));
  return r;
}

namespace {
template <size_t N>
absl::StatusOr<std::string> ReplaceAll(const Regex& re, std::string_view text, const std::string_view (&with)[N],
                                       bool ips, uint64_t* count) {
  std::vector<std::pair<size_t, size_t>> matches;
  RETURN_IF_ERROR(re.FindAll(text, &matches));
  if (matches.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t pos = 0, next = 0;
  for (const auto& [b, e] : matches) {
    const std::string_view m = text.substr(b, e - b);
    if (ips && !IsPublicIpv4(m)) continue;  // datatrove: an invalid match is replaced by itself
    out.append(text.substr(pos, b - pos));
    out.append(with[next]);
    next = (next + 1) % N;
    pos = e;
    ++*count;
  }
  out.append(text.substr(pos));
  return out;
}
}  // namespace

absl::StatusOr<std::string> PiiReplacer::Replace(std::string_view text, PiiCounts* counts) const {
  ASSIGN_OR_RETURN(std::string s, ReplaceAll(*email_, text, kEmailReplacements, false, &counts->emails));
  return ReplaceAll(*ip_, s, kIpReplacements, true, &counts->ips);
}

}  // namespace llmtk
