#include "lib/tokenizer/decode.h"

#include <string_view>

#include "lib/tokenizer/bpe.h"
#include "lib/tokenizer/byte_level.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace {

void ReplaceAll(std::string* s, std::string_view pat, std::string_view with) {
  if (pat.empty()) return;
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t f = s->find(pat, pos);
    if (f == std::string::npos) break;
    out.append(*s, pos, f - pos);
    out.append(with);
    pos = f + pat.size();
  }
  if (pos == 0) return;
  out.append(*s, pos, std::string::npos);
  s->swap(out);
}

int ParseByteToken(const std::string& t) {
  // "<0xAB>"
  if (t.size() != 6 || t[0] != '<' || t[1] != '0' || t[2] != 'x' || t[5] != '>') return -1;
  int v = 0;
  for (int i = 3; i < 5; ++i) {
    char c = t[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

}  // namespace

std::string SpmSpacesToSpaces(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, "\xE2\x96\x81") == 0) {
      out.push_back(' ');
      i += 3;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

std::string LlamaCleanSpaces(std::string_view text) {
  // 1: " ?", " !", " .", " ," lose the space.
  std::string one;
  one.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char x = text[i];
    if (i > 0 && text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) one.pop_back();
    one.push_back(x);
  }
  // 2: " ' " becomes "'". The dropped space after the quote was a NUL in
  // llama.cpp's buffer, so the byte after it does not follow a space.
  std::string two;
  two.reserve(one.size());
  bool after_blank = false;
  for (size_t i = 0; i < one.size(); ++i) {
    const char x = one[i];
    const bool prev_space = i > 0 && !after_blank && one[i - 1] == ' ';
    after_blank = false;
    if (x == '\'' && prev_space && i + 1 < one.size() && one[i + 1] == ' ') {
      two.back() = x;  // the space before goes
      ++i;             // and the one after
      after_blank = true;
      continue;
    }
    two.push_back(x);
  }
  // 3: a space before 's 'm 're 've goes.
  std::string three;
  three.reserve(two.size());
  for (size_t i = 0; i < two.size(); ++i) {
    const char x = two[i];
    if (i > 0 && two[i - 1] == ' ' && x == '\'' && i + 1 < two.size()) {
      const char x1 = two[i + 1];
      const char x2 = i + 2 < two.size() ? two[i + 2] : '\0';
      if (x1 == 's' || x1 == 'm' || (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) three.pop_back();
    }
    three.push_back(x);
  }
  return three;
}

std::string Decoder::Run(std::vector<std::string> tokens) const {
  for (const DecoderStep& st : steps_) {
    switch (st.kind) {
      case DecoderStep::Kind::kByteLevel: {
        std::string bytes;
        for (const std::string& t : tokens) ByteLevelToBytes(t, &bytes);
        tokens.assign(1, ReplaceInvalidUtf8(bytes));
        break;
      }
      case DecoderStep::Kind::kReplace:
        for (std::string& t : tokens) ReplaceAll(&t, st.pattern, st.content);
        break;
      case DecoderStep::Kind::kByteFallback: {
        std::vector<std::string> out;
        std::string pending;
        size_t pending_count = 0;
        auto flush = [&]() {
          if (pending_count == 0) return;
          if (IsValidUtf8(pending)) {
            out.push_back(pending);
          } else {
            for (size_t i = 0; i < pending_count; ++i) out.push_back("\xEF\xBF\xBD");
          }
          pending.clear();
          pending_count = 0;
        };
        for (std::string& t : tokens) {
          int b = ParseByteToken(t);
          if (b >= 0) {
            pending.push_back(static_cast<char>(b));
            ++pending_count;
          } else {
            flush();
            out.push_back(std::move(t));
          }
        }
        flush();
        tokens.swap(out);
        break;
      }
      case DecoderStep::Kind::kFuse: {
        std::string all;
        for (const std::string& t : tokens) all += t;
        tokens.assign(1, std::move(all));
        break;
      }
      case DecoderStep::Kind::kStrip:
        // Strips up to `start` leading and `stop` trailing copies of the
        // content character from each token.
        for (std::string& t : tokens) {
          const std::string& c = st.content;
          if (c.empty()) continue;
          size_t b = 0;
          for (int i = 0; i < st.start && t.compare(b, c.size(), c) == 0; ++i) b += c.size();
          size_t e = t.size();
          for (int i = 0; i < st.stop && e >= b + c.size() && t.compare(e - c.size(), c.size(), c) == 0; ++i)
            e -= c.size();
          t = t.substr(b, e - b);
        }
        break;
      case DecoderStep::Kind::kSpmPrefix: {
        const std::string& c = st.content;
        if (c.empty()) break;
        for (std::string& t : tokens) {
          if (t.compare(0, c.size(), c) == 0) t.erase(0, c.size());
          if (!t.empty()) break;
        }
        break;
      }
      case DecoderStep::Kind::kWordPiece:
        for (size_t i = 0; i < tokens.size(); ++i) {
          std::string& t = tokens[i];
          if (i != 0) {
            if (!st.content.empty() && t.compare(0, st.content.size(), st.content) == 0) {
              t.erase(0, st.content.size());
            } else {
              t.insert(0, " ");
            }
          }
          if (st.cleanup) {
            // HF's cleanup, in its order.
            static constexpr std::pair<std::string_view, std::string_view> kCleanup[] = {
                {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},   {" ' ", "'"},  {" n't", "n't"},
                {" 'm", "'m"},   {" do not", " don't"},        {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
            for (auto [from, to] : kCleanup) ReplaceAll(&t, from, to);
          }
        }
        break;
      case DecoderStep::Kind::kLlamaCleanSpaces: {
        std::string all;
        for (const std::string& t : tokens) all += t;
        tokens.assign(1, LlamaCleanSpaces(all));
        break;
      }
      case DecoderStep::Kind::kMetaspace:
        for (size_t i = 0; i < tokens.size(); ++i) {
          ReplaceAll(&tokens[i], st.content, " ");
          if (i == 0 && st.prepend && !tokens[0].empty() && tokens[0][0] == ' ') tokens[0].erase(0, 1);
        }
        break;
    }
  }
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

}  // namespace llmtk
