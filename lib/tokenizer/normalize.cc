#include "lib/tokenizer/normalize.h"

#include "lib/base/unicode.h"

namespace llmtk {
namespace {

void ReplaceLiteral(const std::string& s, std::string_view pat, std::string_view with, std::string* out) {
  out->clear();
  if (pat.empty()) {
    *out = s;
    return;
  }
  size_t pos = 0;
  while (true) {
    size_t f = s.find(pat, pos);
    if (f == std::string::npos) break;
    out->append(s, pos, f - pos);
    out->append(with);
    pos = f + pat.size();
  }
  out->append(s, pos, std::string::npos);
}

}  // namespace

absl::Status Normalizer::Apply(std::string_view in, std::string* out) const {
  // Per-thread buffers, swapped with *out at the end: no allocation per
  // document once they have grown (`in` may alias *out: copied first).
  thread_local std::string cur, tmp;
  thread_local std::vector<std::pair<size_t, size_t>> m;
  cur.assign(in);
  for (const NormalizerStep& st : steps_) {
    switch (st.kind) {
      case NormalizerStep::Kind::kNfc:
      case NormalizerStep::Kind::kNfd:
      case NormalizerStep::Kind::kNfkc:
      case NormalizerStep::Kind::kNfkd: {
        NormalForm f = st.kind == NormalizerStep::Kind::kNfc    ? NormalForm::kNFC
                       : st.kind == NormalizerStep::Kind::kNfd  ? NormalForm::kNFD
                       : st.kind == NormalizerStep::Kind::kNfkc ? NormalForm::kNFKC
                                                                : NormalForm::kNFKD;
        ASSIGN_OR_RETURN(cur, Normalize(cur, f));
        break;
      }
      case NormalizerStep::Kind::kLowercase:
        cur = HfLowercase(cur);
        break;
      case NormalizerStep::Kind::kBert:
        RETURN_IF_ERROR(BertNormalize(cur, st.bert, &tmp));
        cur.swap(tmp);
        break;
      case NormalizerStep::Kind::kLlamaWpm:
        cur = LlamaWpmPreprocess(cur);
        break;
      case NormalizerStep::Kind::kStripAccents:
        cur = DropCombiningMarks(cur);
        break;
      case NormalizerStep::Kind::kStrip: {
        size_t b = 0, e = cur.size();
        if (st.strip_left) {
          while (b < e) {
            size_t p = b;
            int32_t cp = DecodeUtf8(cur, &p);
            if (cp < 0 || !IsWhitespace(static_cast<char32_t>(cp))) break;
            b = p;
          }
        }
        if (st.strip_right) {
          while (e > b) {
            size_t s = e - 1;
            while (s > b && (static_cast<unsigned char>(cur[s]) & 0xC0) == 0x80) --s;
            size_t p = s;
            int32_t cp = DecodeUtf8(cur, &p);
            if (cp < 0 || !IsWhitespace(static_cast<char32_t>(cp))) break;
            e = s;
          }
        }
        cur.erase(e);
        cur.erase(0, b);
        break;
      }
      case NormalizerStep::Kind::kReplace:
        if (st.regex) {
          m.clear();
          RETURN_IF_ERROR(st.regex->FindAll(cur, &m));
          tmp.clear();
          size_t pos = 0;
          for (auto [b, e] : m) {
            tmp.append(cur, pos, b - pos);
            tmp.append(st.content);
            pos = e;
          }
          tmp.append(cur, pos, std::string::npos);
        } else {
          ReplaceLiteral(cur, st.pattern, st.content, &tmp);
        }
        cur.swap(tmp);
        break;
      case NormalizerStep::Kind::kPrepend:
        if (!cur.empty()) cur.insert(0, st.content);
        break;
      case NormalizerStep::Kind::kPrecompiled:
        st.charsmap->NormalizeHf(cur, &tmp);
        cur.swap(tmp);
        break;
      case NormalizerStep::Kind::kSentencePiece:
        st.spm->Normalize(cur, &tmp);
        cur.swap(tmp);
        break;
    }
  }
  out->swap(cur);
  return absl::OkStatus();
}

}  // namespace llmtk
