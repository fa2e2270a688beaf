// filter/pii: e-mail addresses and public IPv4 addresses replaced as
// datatrove's PIIFormatter does (pipeline/formatters/pii.py, commit 386e030d):
// its two regexes (the e-mail one case-sensitive, lower-case only, as there),
// e-mails first, then IPs; an IP is replaced only when Python's
// ipaddress.ip_address accepts it (no leading zeros) and calls it global
// (is_global, Python 3.11's tables); replacements cycle through datatrove's
// strings. One difference, stated: datatrove's cycle position carries over
// from document to document within a worker, which makes its output depend on
// how documents are split among workers; here it starts afresh in every
// document, so the output is the same whatever --threads and --shard.
//
// Thread-safety: a PiiReplacer is immutable once built; Replace may be called
// from any number of threads.
#ifndef LLMTK_LIB_FILTER_PII_H_
#define LLMTK_LIB_FILTER_PII_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lib/base/regex.h"
#include "lib/base/status.h"

namespace llmtk {

struct PiiCounts {
  uint64_t emails = 0, ips = 0;
};

// Python 3.11's ipaddress: `s` is a dotted quad without leading zeros that is
// global (not private, reserved, loopback, link-local, shared 100.64/10 ...).
bool IsPublicIpv4(std::string_view s);

class PiiReplacer {
 public:
  static absl::StatusOr<std::unique_ptr<PiiReplacer>> Create();
  // Returns `text` with the addresses replaced; adds what it replaced to *counts.
  absl::StatusOr<std::string> Replace(std::string_view text, PiiCounts* counts) const;

 private:
  std::unique_ptr<Regex> email_, ip_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_FILTER_PII_H_
