#include "lib/formats/sentencepiece_model.h"

#include <cstring>
#include <initializer_list>
#include <utility>

#include "absl/strings/str_cat.h"

namespace llmtk {
namespace {

enum WireType { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

struct Field {
  uint32_t number = 0;
  int wire = 0;
  size_t at = 0;  // file offset of the tag
  uint64_t varint = 0;
  uint32_t fixed32 = 0;
  std::string_view bytes;
  size_t payload_at = 0;  // file offset of `bytes`
};

using Names = std::initializer_list<std::pair<uint32_t, const char*>>;

// One message's fields in order. Offsets are file offsets, so nested
// messages report where in the file they are broken.
class Reader {
 public:
  Reader(std::string_view b, size_t base, std::string_view file) : b_(b), base_(base), file_(file) {}

  absl::Status Error(size_t at, std::string_view what) const {
    return absl::DataLossError(
        absl::StrCat(ToAbsl(file_), ": malformed SentencePiece model at byte ", at, " (", ToAbsl(what), ")"));
  }

  // Reads the next field into *f; false at the end of the message.
  absl::StatusOr<bool> Next(Names names, Field* f) {
    if (pos_ >= b_.size()) return false;
    f->at = base_ + pos_;
    uint64_t tag;
    if (!Varint(&tag)) return Error(f->at, "truncated field tag");
    f->number = static_cast<uint32_t>(tag >> 3);
    f->wire = static_cast<int>(tag & 7);
    if (f->number == 0 || (tag >> 3) > 0x1FFFFFFF) return Error(f->at, "field number 0 or over 2^29");
    std::string what = absl::StrCat("field ", f->number);
    for (const auto& [n, s] : names)
      if (n == f->number) what = s;
    switch (f->wire) {
      case kVarint:
        if (!Varint(&f->varint)) return Error(f->at, absl::StrCat("truncated ", what));
        return true;
      case kFixed64:
        if (b_.size() - pos_ < 8) return Error(f->at, absl::StrCat("truncated ", what));
        pos_ += 8;
        return true;
      case kFixed32:
        if (b_.size() - pos_ < 4) return Error(f->at, absl::StrCat("truncated ", what));
        std::memcpy(&f->fixed32, b_.data() + pos_, 4);  // little-endian hosts only, as the rest of llmtk
        pos_ += 4;
        return true;
      case kLen: {
        uint64_t n;
        if (!Varint(&n) || n > b_.size() - pos_) return Error(f->at, absl::StrCat("truncated ", what));
        f->payload_at = base_ + pos_;
        f->bytes = b_.substr(pos_, n);
        pos_ += n;
        return true;
      }
      default:
        return Error(f->at, absl::StrCat(what, " has unknown wire type ", f->wire));
    }
  }

  // The field must have wire type `want` (it is one we read).
  absl::Status Expect(const Field& f, int want, std::string_view what) const {
    if (f.wire == want) return absl::OkStatus();
    return Error(f.at, absl::StrCat(ToAbsl(what), " has wire type ", f.wire, ", expected ", want));
  }

 private:
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return false;
      const uint8_t c = static_cast<uint8_t>(b_[pos_++]);
      *v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return true;
    }
    return false;
  }

  std::string_view b_;
  size_t base_;
  std::string_view file_;
  size_t pos_ = 0;
};

float AsFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

absl::Status ReadPiece(const Field& outer, std::string_view file, size_t index, SpmPiece* p) {
  Reader r(outer.bytes, outer.payload_at, file);
  Field f;
  while (true) {
    ASSIGN_OR_RETURN(bool more, r.Next({{1, "piece text"}, {2, "piece score"}, {3, "piece type"}}, &f));
    if (!more) break;
    if (f.number == 1) {
      RETURN_IF_ERROR(r.Expect(f, kLen, "piece text"));
      p->piece = std::string(f.bytes);
    } else if (f.number == 2) {
      RETURN_IF_ERROR(r.Expect(f, kFixed32, "piece score"));
      p->score = AsFloat(f.fixed32);
    } else if (f.number == 3) {
      RETURN_IF_ERROR(r.Expect(f, kVarint, "piece type"));
      if (f.varint < 1 || f.varint > 6) {
        return r.Error(f.at, absl::StrCat("piece ", index, " has unknown type ", f.varint, " (1..6 are known)"));
      }
      p->type = static_cast<SpmPieceType>(f.varint);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadTrainer(const Field& outer, std::string_view file, SpmTrainerSpec* t) {
  Reader r(outer.bytes, outer.payload_at, file);
  Field f;
  auto i32 = [&](int32_t* v) -> absl::Status {
    RETURN_IF_ERROR(r.Expect(f, kVarint, absl::StrCat("trainer_spec field ", f.number)));
    *v = static_cast<int32_t>(static_cast<uint32_t>(f.varint));
    return absl::OkStatus();
  };
  auto flag = [&](bool* v) -> absl::Status {
    RETURN_IF_ERROR(r.Expect(f, kVarint, absl::StrCat("trainer_spec field ", f.number)));
    *v = f.varint != 0;
    return absl::OkStatus();
  };
  auto str = [&](std::string* v) -> absl::Status {
    RETURN_IF_ERROR(r.Expect(f, kLen, absl::StrCat("trainer_spec field ", f.number)));
    *v = std::string(f.bytes);
    return absl::OkStatus();
  };
  while (true) {
    ASSIGN_OR_RETURN(bool more, r.Next({}, &f));
    if (!more) break;
    int32_t type = 0;
    std::string s;
    switch (f.number) {
      case 3:
        RETURN_IF_ERROR(i32(&type));
        if (type < 1 || type > 4) return r.Error(f.at, absl::StrCat("unknown model_type ", type, " (1..4 are known)"));
        t->model_type = static_cast<SpmModelType>(type);
        break;
      case 4: RETURN_IF_ERROR(i32(&t->vocab_size)); break;
      case 24: RETURN_IF_ERROR(flag(&t->treat_whitespace_as_suffix)); break;
      case 25: RETURN_IF_ERROR(flag(&t->split_digits)); break;
      case 26: RETURN_IF_ERROR(flag(&t->allow_whitespace_only_pieces)); break;
      case 30: RETURN_IF_ERROR(str(&s)); t->control_symbols.push_back(std::move(s)); break;
      case 31: RETURN_IF_ERROR(str(&s)); t->user_defined_symbols.push_back(std::move(s)); break;
      case 35: RETURN_IF_ERROR(flag(&t->byte_fallback)); break;
      case 40: RETURN_IF_ERROR(i32(&t->unk_id)); break;
      case 41: RETURN_IF_ERROR(i32(&t->bos_id)); break;
      case 42: RETURN_IF_ERROR(i32(&t->eos_id)); break;
      case 43: RETURN_IF_ERROR(i32(&t->pad_id)); break;
      case 44: RETURN_IF_ERROR(str(&t->unk_surface)); break;
      case 45: RETURN_IF_ERROR(str(&t->unk_piece)); break;
      case 46: RETURN_IF_ERROR(str(&t->bos_piece)); break;
      case 47: RETURN_IF_ERROR(str(&t->eos_piece)); break;
      case 48: RETURN_IF_ERROR(str(&t->pad_piece)); break;
      default: break;
    }
  }
  return absl::OkStatus();
}

absl::Status ReadNormalizer(const Field& outer, std::string_view file, std::string_view which, SpmNormalizerSpec* n) {
  Reader r(outer.bytes, outer.payload_at, file);
  n->present = true;
  Field f;
  while (true) {
    ASSIGN_OR_RETURN(bool more, r.Next({}, &f));
    if (!more) break;
    const std::string what = absl::StrCat(ToAbsl(which), " field ", f.number);
    switch (f.number) {
      case 1:
        RETURN_IF_ERROR(r.Expect(f, kLen, what));
        n->name = std::string(f.bytes);
        break;
      case 2:
        RETURN_IF_ERROR(r.Expect(f, kLen, what));
        n->precompiled_charsmap = std::string(f.bytes);
        break;
      case 3:
      case 4:
      case 5: {
        RETURN_IF_ERROR(r.Expect(f, kVarint, what));
        bool* b = f.number == 3 ? &n->add_dummy_prefix : f.number == 4 ? &n->remove_extra_whitespaces : &n->escape_whitespaces;
        *b = f.varint != 0;
        break;
      }
      case 6:
        RETURN_IF_ERROR(r.Expect(f, kLen, what));
        n->normalization_rule_tsv = std::string(f.bytes);
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SentencePieceModel> ReadSentencePieceModel(std::string_view bytes, std::string_view name) {
  SentencePieceModel m;
  Reader r(bytes, 0, name);
  Field f;
  while (true) {
    ASSIGN_OR_RETURN(bool more,
                     r.Next({{1, "piece"}, {2, "trainer_spec"}, {3, "normalizer_spec"}, {5, "denormalizer_spec"}}, &f));
    if (!more) break;
    switch (f.number) {
      case 1:
        RETURN_IF_ERROR(r.Expect(f, kLen, "piece"));
        m.pieces.emplace_back();
        RETURN_IF_ERROR(ReadPiece(f, name, m.pieces.size() - 1, &m.pieces.back()));
        break;
      case 2:
        RETURN_IF_ERROR(r.Expect(f, kLen, "trainer_spec"));
        RETURN_IF_ERROR(ReadTrainer(f, name, &m.trainer));
        break;
      case 3:
        RETURN_IF_ERROR(r.Expect(f, kLen, "normalizer_spec"));
        RETURN_IF_ERROR(ReadNormalizer(f, name, "normalizer_spec", &m.normalizer));
        break;
      case 5:
        RETURN_IF_ERROR(r.Expect(f, kLen, "denormalizer_spec"));
        RETURN_IF_ERROR(ReadNormalizer(f, name, "denormalizer_spec", &m.denormalizer));
        break;
      default:
        break;
    }
  }
  if (m.pieces.empty()) return absl::DataLossError(absl::StrCat(ToAbsl(name), ": SentencePiece model holds no pieces"));
  return m;
}

namespace {

// Protobuf wire encoding, the inverse of Reader above.
class Writer {
 public:
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void Tag(uint32_t number, int wire) { Varint((static_cast<uint64_t>(number) << 3) | wire); }
  void Bytes(uint32_t number, std::string_view b) {
    Tag(number, kLen);
    Varint(b.size());
    out_.append(b.data(), b.size());
  }
  // int32 fields are sign-extended to 64 bits on the wire, as protobuf does.
  void Int32(uint32_t number, int32_t v) {
    Tag(number, kVarint);
    Varint(static_cast<uint64_t>(static_cast<int64_t>(v)));
  }
  void Bool(uint32_t number, bool v) {
    Tag(number, kVarint);
    Varint(v ? 1 : 0);
  }
  void Float(uint32_t number, float f) {
    Tag(number, kFixed32);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    out_.append(reinterpret_cast<const char*>(&bits), 4);  // little-endian hosts only
  }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

std::string NormalizerBytes(const SpmNormalizerSpec& n) {
  Writer w;
  if (!n.name.empty()) w.Bytes(1, n.name);
  w.Bytes(2, n.precompiled_charsmap);
  w.Bool(3, n.add_dummy_prefix);
  w.Bool(4, n.remove_extra_whitespaces);
  w.Bool(5, n.escape_whitespaces);
  if (!n.normalization_rule_tsv.empty()) w.Bytes(6, n.normalization_rule_tsv);
  return std::move(w.str());
}

std::string TrainerBytes(const SpmTrainerSpec& t) {
  Writer w;
  w.Int32(3, static_cast<int32_t>(t.model_type));
  w.Int32(4, t.vocab_size);
  w.Bool(24, t.treat_whitespace_as_suffix);
  w.Bool(25, t.split_digits);
  w.Bool(26, t.allow_whitespace_only_pieces);
  for (const std::string& s : t.control_symbols) w.Bytes(30, s);
  for (const std::string& s : t.user_defined_symbols) w.Bytes(31, s);
  w.Bool(35, t.byte_fallback);
  w.Int32(40, t.unk_id);
  w.Int32(41, t.bos_id);
  w.Int32(42, t.eos_id);
  w.Int32(43, t.pad_id);
  w.Bytes(44, t.unk_surface);
  w.Bytes(45, t.unk_piece);
  w.Bytes(46, t.bos_piece);
  w.Bytes(47, t.eos_piece);
  w.Bytes(48, t.pad_piece);
  return std::move(w.str());
}

}  // namespace

std::string WriteSentencePieceModel(const SentencePieceModel& m) {
  Writer w;
  for (const SpmPiece& p : m.pieces) {
    Writer pw;
    pw.Bytes(1, p.piece);
    pw.Float(2, p.score);
    if (p.type != SpmPieceType::kNormal) pw.Int32(3, static_cast<int32_t>(p.type));
    w.Bytes(1, pw.str());
  }
  w.Bytes(2, TrainerBytes(m.trainer));
  w.Bytes(3, NormalizerBytes(m.normalizer));
  if (m.denormalizer.present) w.Bytes(5, NormalizerBytes(m.denormalizer));
  return std::move(w.str());
}

}  // namespace llmtk
