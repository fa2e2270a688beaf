#include "tools/tok/id_text.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace llmtk {

IdText::IdText(uint32_t table_size) {
  table_size = std::min<uint32_t>(table_size, 100000000);  // 8 digits fit a uint64_t
  digits_.resize(table_size);
  len_.resize(table_size);
  for (uint32_t id = 0; id < table_size; ++id) {
    char buf[16] = {};
    auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), id);
    std::memcpy(&digits_[id], buf, 8);
    len_[id] = static_cast<uint8_t>(p - buf);
  }
}

void IdText::Append(std::string* out, std::span<const uint32_t> ids, char sep) const {
  if (ids.empty()) return;
  // Room for the longest ids (10 digits) and separators, and for the last
  // 8-byte copy; cut back to what was written.
  const size_t old = out->size();
  out->resize(old + ids.size() * 11 + 8);
  char* p = out->data() + old;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) *p++ = sep;
    const uint32_t id = ids[i];
    if (id < len_.size()) {
      std::memcpy(p, &digits_[id], 8);
      p += len_[id];
    } else {
      p = std::to_chars(p, p + 10, id).ptr;
    }
  }
  out->resize(static_cast<size_t>(p - out->data()));
}

}  // namespace llmtk
