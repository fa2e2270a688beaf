#include "lib/tokenizer/spm_to_json.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "lib/base/json_writer.h"
#include "lib/base/unicode.h"
#include "lib/tokenizer/base64.h"

namespace llmtk {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";

struct Merge {
  std::string_view left, right;
  float score;
  size_t left_chars, right_chars;
};

// transformers' generate_merges(vocab, vocab_scores): for each piece, every
// split into two vocabulary pieces (at character boundaries, ordered by the
// ids of the halves), then all of them by (score, left length, right
// length), highest first; Python's sort is stable, also reversed.
std::vector<Merge> GenerateMerges(const SentencePieceModel& m) {
  absl::flat_hash_map<std::string_view, uint32_t> ids;
  for (size_t i = 0; i < m.pieces.size(); ++i) ids.try_emplace(m.pieces[i].piece, static_cast<uint32_t>(i));
  // dict(vocab_scores): a repeated piece keeps its first place and its last score.
  absl::flat_hash_map<std::string_view, float> score;
  std::vector<std::string_view> order;
  for (const SpmPiece& p : m.pieces) {
    if (score.try_emplace(p.piece, p.score).second) {
      order.push_back(p.piece);
    } else {
      score[p.piece] = p.score;
    }
  }
  std::vector<Merge> merges;
  for (std::string_view piece : order) {
    std::vector<Merge> local;
    size_t pos = 0;
    DecodeUtf8(piece, &pos);
    for (; pos < piece.size();) {
      std::string_view l = piece.substr(0, pos), r = piece.substr(pos);
      if (ids.contains(l) && ids.contains(r)) local.push_back({l, r, score[piece], CodePoints(l), CodePoints(r)});
      DecodeUtf8(piece, &pos);
    }
    std::stable_sort(local.begin(), local.end(), [&](const Merge& a, const Merge& b) {
      return std::make_pair(ids[a.left], ids[a.right]) < std::make_pair(ids[b.left], ids[b.right]);
    });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    return std::make_tuple(a.score, a.left_chars, a.right_chars) > std::make_tuple(b.score, b.left_chars, b.right_chars);
  });
  return merges;
}

void AddedTokens(const SentencePieceModel& m, JsonWriter* w) {
  w->Key("added_tokens").BeginArray();
  for (size_t i = 0; i < m.pieces.size(); ++i) {
    const SpmPiece& p = m.pieces[i];
    if (p.type != SpmPieceType::kControl && p.type != SpmPieceType::kUnknown && p.type != SpmPieceType::kUserDefined) {
      continue;
    }
    w->BeginObject().Key("id").Uint(i).Key("content").String(p.piece);
    w->Key("single_word").Bool(false).Key("lstrip").Bool(false).Key("rstrip").Bool(false);
    w->Key("normalized").Bool(false).Key("special").Bool(p.type != SpmPieceType::kUserDefined).EndObject();
  }
  w->EndArray();
}

void Precompiled(const SentencePieceModel& m, JsonWriter* w) {
  w->BeginObject().Key("type").String("Precompiled");
  w->Key("precompiled_charsmap").String(EncodeBase64(m.normalizer.precompiled_charsmap)).EndObject();
}

void Llama(const SentencePieceModel& m, JsonWriter* w) {
  w->Key("normalizer").BeginObject().Key("type").String("Sequence").Key("normalizers").BeginArray();
  if (!m.normalizer.precompiled_charsmap.empty()) Precompiled(m, w);
  if (m.normalizer.add_dummy_prefix) w->BeginObject().Key("type").String("Prepend").Key("prepend").String(kSpace).EndObject();
  w->BeginObject().Key("type").String("Replace").Key("pattern").BeginObject().Key("String").String(" ").EndObject();
  w->Key("content").String(kSpace).EndObject();
  w->EndArray().EndObject();
  w->Key("pre_tokenizer").Null();
  // LlamaTokenizerFast: add_bos_token, no EOS.
  std::string bos;
  for (const SpmPiece& p : m.pieces)
    if (p.type == SpmPieceType::kControl && p.piece == m.trainer.bos_piece) bos = p.piece;
  if (bos.empty()) {
    w->Key("post_processor").Null();
  } else {
    uint32_t bos_id = 0;
    for (size_t i = 0; i < m.pieces.size(); ++i)
      if (m.pieces[i].piece == bos) bos_id = static_cast<uint32_t>(i);
    w->Key("post_processor").BeginObject().Key("type").String("TemplateProcessing");
    w->Key("single").BeginArray();
    w->BeginObject().Key("SpecialToken").BeginObject().Key("id").String(bos).Key("type_id").Int(0).EndObject().EndObject();
    w->BeginObject().Key("Sequence").BeginObject().Key("id").String("A").Key("type_id").Int(0).EndObject().EndObject();
    w->EndArray();
    w->Key("pair").BeginArray();
    w->BeginObject().Key("SpecialToken").BeginObject().Key("id").String(bos).Key("type_id").Int(0).EndObject().EndObject();
    w->BeginObject().Key("Sequence").BeginObject().Key("id").String("A").Key("type_id").Int(0).EndObject().EndObject();
    w->BeginObject().Key("SpecialToken").BeginObject().Key("id").String(bos).Key("type_id").Int(1).EndObject().EndObject();
    w->BeginObject().Key("Sequence").BeginObject().Key("id").String("B").Key("type_id").Int(1).EndObject().EndObject();
    w->EndArray();
    w->Key("special_tokens").BeginObject().Key(bos).BeginObject().Key("id").String(bos);
    w->Key("ids").BeginArray().Uint(bos_id).EndArray().Key("tokens").BeginArray().String(bos).EndArray();
    w->EndObject().EndObject().EndObject();
  }
  w->Key("decoder").BeginObject().Key("type").String("Sequence").Key("decoders").BeginArray();
  w->BeginObject().Key("type").String("Replace").Key("pattern").BeginObject().Key("String").String(kSpace).EndObject();
  w->Key("content").String(" ").EndObject();
  w->BeginObject().Key("type").String("ByteFallback").EndObject();
  w->BeginObject().Key("type").String("Fuse").EndObject();
  if (m.normalizer.add_dummy_prefix) {
    w->BeginObject().Key("type").String("Strip").Key("content").String(" ").Key("start").Int(1).Key("stop").Int(0).EndObject();
  }
  w->EndArray().EndObject();
  w->Key("model").BeginObject().Key("type").String("BPE").Key("dropout").Null();
  w->Key("unk_token").String(m.trainer.unk_piece).Key("continuing_subword_prefix").Null();
  w->Key("end_of_word_suffix").Null().Key("fuse_unk").Bool(true).Key("byte_fallback").Bool(true);
  w->Key("ignore_merges").Bool(false);
  w->Key("vocab").BeginObject();
  absl::flat_hash_map<std::string_view, bool> seen;
  for (size_t i = 0; i < m.pieces.size(); ++i)
    if (seen.try_emplace(m.pieces[i].piece, true).second) w->Key(m.pieces[i].piece).Uint(i);
  w->EndObject();
  w->Key("merges").BeginArray();
  for (const Merge& mg : GenerateMerges(m)) w->BeginArray().String(mg.left).String(mg.right).EndArray();
  w->EndArray().EndObject();
}

void Metaspace(const char* what, JsonWriter* w) {
  w->Key(what).BeginObject().Key("type").String("Metaspace").Key("replacement").String(kSpace);
  w->Key("prepend_scheme").String("always").Key("split").Bool(true).EndObject();
}

void Spm(const SentencePieceModel& m, JsonWriter* w) {
  w->Key("normalizer").BeginObject().Key("type").String("Sequence").Key("normalizers").BeginArray();
  if (!m.normalizer.precompiled_charsmap.empty()) {
    Precompiled(m, w);
    w->BeginObject().Key("type").String("Strip").Key("strip_left").Bool(false).Key("strip_right").Bool(true).EndObject();
  } else {
    // No charsmap (spm's "identity" rule, llmtk's trained models): spm
    // strips spaces only; Strip would also take a trailing tab. \z, not $:
    // Oniguruma's $ also matches before every newline.
    w->BeginObject().Key("type").String("Replace").Key("pattern").BeginObject().Key("Regex").String(" +\\z").EndObject();
    w->Key("content").String("").EndObject();
  }
  w->BeginObject().Key("type").String("Replace").Key("pattern").BeginObject().Key("Regex").String(" {2,}").EndObject();
  w->Key("content").String(kSpace).EndObject();
  w->EndArray().EndObject();
  Metaspace("pre_tokenizer", w);
  w->Key("post_processor").Null();
  Metaspace("decoder", w);
  if (m.trainer.model_type == SpmModelType::kUnigram) {
    w->Key("model").BeginObject().Key("type").String("Unigram").Key("unk_id").Int(m.trainer.unk_id);
    w->Key("vocab").BeginArray();
    for (const SpmPiece& p : m.pieces) w->BeginArray().String(p.piece).Double(p.score).EndArray();
    w->EndArray().Key("byte_fallback").Bool(m.trainer.byte_fallback).EndObject();
    return;
  }
  w->Key("model").BeginObject().Key("type").String("BPE").Key("dropout").Null();
  w->Key("unk_token").String(m.trainer.unk_piece).Key("continuing_subword_prefix").Null();
  w->Key("end_of_word_suffix").Null().Key("fuse_unk").Bool(true).Key("byte_fallback").Bool(false);
  w->Key("ignore_merges").Bool(false).Key("vocab").BeginObject();
  absl::flat_hash_map<std::string_view, bool> seen;
  for (size_t i = 0; i < m.pieces.size(); ++i)
    if (seen.try_emplace(m.pieces[i].piece, true).second) w->Key(m.pieces[i].piece).Uint(i);
  w->EndObject().Key("merges").BeginArray();
  for (const Merge& mg : GenerateMerges(m)) w->BeginArray().String(mg.left).String(mg.right).EndArray();
  w->EndArray().EndObject();
}

}  // namespace

absl::StatusOr<std::string> SentencePieceToTokenizerJson(const SentencePieceModel& m, std::string_view source) {
  const SpmModelType type = m.trainer.model_type;
  if (type != SpmModelType::kUnigram && type != SpmModelType::kBpe) {
    return absl::UnimplementedError(absl::StrCat(ToAbsl(source), ": SentencePiece model_type ",
                                                 type == SpmModelType::kWord ? "WORD" : "CHAR",
                                                 " has no tokenizer.json form (UNIGRAM and BPE do)"));
  }
  JsonWriter w;
  w.BeginObject().Key("version").String("1.0").Key("truncation").Null().Key("padding").Null();
  AddedTokens(m, &w);
  if (type == SpmModelType::kBpe && m.trainer.byte_fallback) {
    Llama(m, &w);
  } else {
    Spm(m, &w);
  }
  w.EndObject();
  std::string out = w.Take();
  out.push_back('\n');
  return out;
}

}  // namespace llmtk
