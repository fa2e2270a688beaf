#include "lib/tokenizer/byte_level.h"

#include "lib/base/unicode.h"

namespace llmtk {
namespace {

struct ByteLevelTables {
  std::array<std::string, 256> chars;
  std::array<int16_t, 256 + 68> byte_of;  // code point -> byte, or -1
  ByteLevelTables() {
    byte_of.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      bool keep = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t cp = keep ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      AppendUtf8(&chars[b], cp);
      byte_of[cp] = static_cast<int16_t>(b);
    }
  }
};

const ByteLevelTables& Tables() {
  static const ByteLevelTables t;
  return t;
}

}  // namespace

const std::array<std::string, 256>& ByteLevelAlphabet() { return Tables().chars; }

int ByteLevelByte(char32_t cp) {
  const auto& t = Tables();
  return cp < t.byte_of.size() ? t.byte_of[cp] : -1;
}

bool ByteLevelToBytes(std::string_view mapped, std::string* out) {
  bool ok = true;
  size_t pos = 0;
  while (pos < mapped.size()) {
    size_t start = pos;
    int32_t cp = DecodeUtf8(mapped, &pos);
    int b = cp < 0 ? -1 : ByteLevelByte(static_cast<char32_t>(cp));
    if (b < 0) {
      ok = false;
      out->append(mapped.substr(start, pos - start));
    } else {
      out->push_back(static_cast<char>(b));
    }
  }
  return ok;
}

std::string BytesToByteLevel(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  const auto& t = Tables();
  for (unsigned char c : bytes) out += t.chars[c];
  return out;
}

}  // namespace llmtk
