#include "lib/tokenizer/pretokenize.h"

#include "lib/base/unicode.h"
#include "lib/tokenizer/bert_normalize.h"

namespace llmtk {
namespace {

using Range = std::pair<uint32_t, uint32_t>;

struct Part {
  uint32_t b, e;
  bool match;
};

// Applies HF's SplitDelimiterBehavior to the parts of one piece (which
// cover it in order) and appends the resulting non-empty ranges.
void ApplyBehavior(const std::vector<Part>& parts, SplitBehavior behavior, std::vector<Range>* out) {
  thread_local std::vector<Part> acc;
  acc.clear();
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Part& p : parts)
        if (!p.match) acc.push_back(p);
      break;
    case SplitBehavior::kIsolated:
      acc = parts;
      break;
    case SplitBehavior::kMergedWithPrevious: {
      bool prev_match = false;
      for (const Part& p : parts) {
        if (p.match && !prev_match && !acc.empty()) {
          acc.back().e = p.e;
        } else {
          acc.push_back(p);
        }
        prev_match = p.match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool prev_match = false;
      for (size_t i = parts.size(); i-- > 0;) {
        const Part& p = parts[i];
        if (p.match && !prev_match && !acc.empty()) {
          acc.back().b = p.b;
        } else {
          acc.push_back(p);
        }
        prev_match = p.match;
      }
      std::reverse(acc.begin(), acc.end());
      break;
    }
    case SplitBehavior::kContiguous:
      for (const Part& p : parts) {
        if (!acc.empty() && acc.back().match == p.match) {
          acc.back().e = p.e;
        } else {
          acc.push_back(p);
        }
      }
      break;
  }
  for (const Part& p : acc)
    if (p.e > p.b) out->emplace_back(p.b, p.e);
}

absl::Status SplitStep(const PreTokenizeStep& st, Pieces* p) {
  // Per-thread buffers (`out` swapped with the ranges): no allocation per
  // document once they have grown.
  thread_local std::vector<Range> out;
  thread_local std::vector<std::pair<size_t, size_t>> m;
  thread_local std::vector<Part> parts;
  out.clear();
  for (const Range& r : p->ranges) {
    std::string_view piece = std::string_view(p->buf).substr(r.first, r.second - r.first);
    m.clear();
    if (st.kind == PreTokenizeStep::Kind::kCharSplit && st.char_class == PreTokenizeStep::CharClass::kWordRuns) {
      // 0 space, 1 word, 2 other; each run of 1s or 2s is a piece.
      size_t pos = 0, run = 0;
      int run_class = 0;
      while (pos < piece.size()) {
        size_t b = pos;
        int32_t cp = DecodeUtf8(piece, &pos);
        char32_t c = static_cast<char32_t>(cp);
        int cls = IsHfWhitespace(c) ? 0 : IsRustWordChar(c) ? 1 : 2;
        if (cls != run_class) {
          if (run_class != 0) out.emplace_back(r.first + run, r.first + b);
          run = b;
          run_class = cls;
        }
      }
      if (run_class != 0) out.emplace_back(r.first + run, r.first + piece.size());
      continue;
    }
    if (st.kind == PreTokenizeStep::Kind::kCharSplit) {
      const bool ws = st.char_class == PreTokenizeStep::CharClass::kWhitespace;
      size_t pos = 0;
      while (pos < piece.size()) {
        size_t b = pos;
        int32_t cp = DecodeUtf8(piece, &pos);
        if (cp >= 0 && (ws ? IsHfWhitespace(static_cast<char32_t>(cp)) : IsHfPunctuation(static_cast<char32_t>(cp))))
          m.emplace_back(b, pos);
      }
    } else if (st.regex) {
      RETURN_IF_ERROR(st.regex->FindAll(piece, &m));
    } else if (!st.literal.empty()) {
      size_t pos = 0;
      while ((pos = piece.find(st.literal, pos)) != std::string_view::npos) {
        m.emplace_back(pos, pos + st.literal.size());
        pos += st.literal.size();
      }
    }
    if (st.behavior == SplitBehavior::kIsolated && !st.invert) {
      // Fast path: matches and the gaps between them, in order.
      uint32_t pos = r.first;
      for (auto [b, e] : m) {
        uint32_t ab = r.first + static_cast<uint32_t>(b), ae = r.first + static_cast<uint32_t>(e);
        if (ab > pos) out.emplace_back(pos, ab);
        out.emplace_back(ab, ae);
        pos = ae;
      }
      if (r.second > pos) out.emplace_back(pos, r.second);
      continue;
    }
    parts.clear();
    uint32_t pos = r.first;
    for (auto [b, e] : m) {
      uint32_t ab = r.first + static_cast<uint32_t>(b), ae = r.first + static_cast<uint32_t>(e);
      if (ab > pos) parts.push_back({pos, ab, st.invert});
      parts.push_back({ab, ae, !st.invert});
      pos = ae;
    }
    if (r.second > pos) parts.push_back({pos, r.second, st.invert});
    ApplyBehavior(parts, st.behavior, &out);
  }
  p->ranges.swap(out);
  return absl::OkStatus();
}

// Rebuilds the buffer with each piece transformed by `fn(index, piece, out)`.
template <typename Fn>
void Rewrite(Pieces* p, Fn fn) {
  thread_local std::string buf;  // swapped with p->buf
  buf.clear();
  buf.reserve(p->buf.size() + p->ranges.size() * 3);
  for (size_t i = 0; i < p->ranges.size(); ++i) {
    uint32_t b = static_cast<uint32_t>(buf.size());
    fn(i, p->piece(i), &buf);
    p->ranges[i] = {b, static_cast<uint32_t>(buf.size())};
  }
  p->buf.swap(buf);
}

}  // namespace

absl::Status PreTokenizer::Run(std::string_view text, bool first_segment, Pieces* out) const {
  out->buf.assign(text);
  out->ranges.clear();
  if (!text.empty()) out->ranges.emplace_back(0, static_cast<uint32_t>(text.size()));
  for (const PreTokenizeStep& st : steps_) {
    switch (st.kind) {
      case PreTokenizeStep::Kind::kSplit:
      case PreTokenizeStep::Kind::kCharSplit:
        RETURN_IF_ERROR(SplitStep(st, out));
        break;
      case PreTokenizeStep::Kind::kByteLevel:
        if (st.add_prefix_space) {
          Rewrite(out, [](size_t, std::string_view piece, std::string* buf) {
            if (piece.empty() || piece[0] != ' ') buf->push_back(' ');
            buf->append(piece);
          });
        }
        if (st.regex) RETURN_IF_ERROR(SplitStep(st, out));
        break;
      case PreTokenizeStep::Kind::kMetaspace: {
        const std::string& rep = st.replacement;
        thread_local std::vector<uint32_t> starts;
        starts.clear();
        for (const Range& r : out->ranges) starts.push_back(r.first);
        Rewrite(out, [&](size_t i, std::string_view piece, std::string* buf) {
          bool prepend = st.prepend == PreTokenizeStep::Prepend::kAlways ||
                         (st.prepend == PreTokenizeStep::Prepend::kFirst && first_segment && starts[i] == 0);
          size_t b = buf->size();
          for (char c : piece) {
            if (c == ' ') {
              buf->append(rep);
            } else {
              buf->push_back(c);
            }
          }
          if (prepend && std::string_view(*buf).substr(b).substr(0, rep.size()) != rep) buf->insert(b, rep);
        });
        if (st.split) {
          PreTokenizeStep sp;
          sp.literal = rep;
          sp.behavior = SplitBehavior::kMergedWithNext;
          RETURN_IF_ERROR(SplitStep(sp, out));
        }
        break;
      }
      default:
        return absl::InternalError("pre-tokenizer step not lowered to Split");
    }
  }
  return absl::OkStatus();
}

}  // namespace llmtk
