#include "lib/tokenizer/invalid_utf8.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace {

// llama.cpp's unicode_cpt_from_utf8: the lead byte's high bits give the
// length; only the 10xxxxxx pattern of the continuation bytes is checked.
// -1 when that fails (the caller then takes one byte as U+FFFD).
int64_t LlamaCppDecode(std::string_view s, size_t* pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t i = *pos, n = s.size();
  const unsigned char c = p[i];
  int len;
  uint32_t cp;
  if (c < 0x80) {
    *pos = i + 1;
    return c;
  } else if (c < 0xC0) {
    return -1;
  } else if (c < 0xE0) {
    len = 2, cp = c & 0x1F;
  } else if (c < 0xF0) {
    len = 3, cp = c & 0x0F;
  } else if (c < 0xF8) {
    len = 4, cp = c & 0x07;
  } else {
    return -1;
  }
  if (i + static_cast<size_t>(len) > n) return -1;
  for (int k = 1; k < len; ++k) {
    if ((p[i + k] & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (p[i + k] & 0x3F);
  }
  *pos = i + static_cast<size_t>(len);
  return cp;
}

}  // namespace

size_t CountInvalidUtf8Bytes(std::string_view s, size_t* first) {
  size_t bad = 0, i = 0;
  bool seen = false;
  while (i < s.size()) {
    const size_t start = i;
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    if (DecodeUtf8(s, &i) == kInvalidUtf8) {
      bad += i - start;
      if (!seen && first) *first = start;
      seen = true;
    }
  }
  return bad;
}

absl::Status LlamaCppCodepointBytes(std::string_view text, size_t offset, std::string* bytes,
                                    std::string* regex_text, bool* has_surrogates) {
  bytes->clear();
  regex_text->clear();
  *has_surrogates = false;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    int64_t cp = LlamaCppDecode(text, &i);
    if (cp < 0) {
      ++i;
      AppendUtf8(bytes, kReplacementChar);
      AppendUtf8(regex_text, kReplacementChar);
      continue;
    }
    if (cp > 0x10FFFF) {
      std::string seq;
      for (size_t k = start; k < i; ++k) absl::StrAppendFormat(&seq, "%s%02X", k > start ? " " : "", static_cast<unsigned char>(text[k]));
      return absl::DataLossError(absl::StrFormat(
          "invalid UTF-8 at byte %d of the text: %s decodes, as llama.cpp reads it, to U+%X, past U+10FFFF; "
          "llama.cpp (c392e50) aborts on it (\"invalid codepoint\"), so there are no ids to match: remove or "
          "replace those bytes",
          offset + start, seq, cp));
    }
    AppendUtf8(bytes, static_cast<char32_t>(cp));
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      AppendUtf8(regex_text, 0xE000);
      *has_surrogates = true;
    } else {
      AppendUtf8(regex_text, static_cast<char32_t>(cp));
    }
  }
  return absl::OkStatus();
}

std::string RefusedUtf8Message(std::string_view text, size_t offset, std::string_view format) {
  const std::string byte =
      offset < text.size() ? absl::StrFormat(" (0x%02X)", static_cast<unsigned char>(text[offset])) : "";
  const std::string_view who = format == "tiktoken" ? "tiktoken encodes Python strings, which cannot hold it"
                                                    : "HF tokenizers takes only valid strings and refuses it too";
  return absl::StrCat("invalid UTF-8 at byte ", offset, " of the text", byte, ": ", ToAbsl(who),
                      "; repair the text (e.g. --invalid-utf8=replace) or use the model's GGUF vocabulary, which "
                      "tokenizes it as llama.cpp does");
}

}  // namespace llmtk
