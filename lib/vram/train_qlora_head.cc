// QLoRA whose quantizer also replaced the LM head (--qlora-quantized-head):
// Lightning's BitsandbytesPrecision.module_init_context swaps every
// torch.nn.Linear built under fabric.init_module for its 4-bit class, the
// LM head included (litgpt's QLoRA), where Hugging Face's quantizers leave the
// head 16-bit (docs/vram.md "QLoRA through bitsandbytes").
#include "absl/strings/str_cat.h"
#include "lib/vram/estimate.h"
#include "lib/vram/formats.h"
#include "lib/vram/train_internal.h"

namespace llmtk::internal {

bool QuantizedHead(const ModelShape& m, const TrainingOptions& o) {
  return o.qlora_quantized_head && o.method == TrainMethod::kQlora && !m.encoder;
}

// The head's weight bytes in the QLoRA format minus what the format's
// 16-bit head costs (a tied head shares the embedding, which stays 16-bit).
int64_t QuantizedHeadWeightDelta(const ModelShape& m, const TrainingOptions& o,
                                 const WeightFormat& f) {
  if (!QuantizedHead(m, o) || m.tied_embeddings) return 0;
  const int64_t dense = f.Bytes(TensorRole::kOutput, 0, m.layers, m.vocab, m.hidden, 1, false);
  // Any quantizable role gives the format's 4-bit bytes for this shape.
  const int64_t quant = f.Bytes(TensorRole::kFfnDown, 0, m.layers, m.vocab, m.hidden, 1, false);
  return quant - dense;
}

// The head's dequantized copies while it multiplies: Lightning's _Linear4bit
// quantizes from `weight.contiguous().to(device=device, dtype=torch.half)`,
// so the quant state's dtype is fp16 and bitsandbytes' MatMul4Bit (forward
// and backward) runs `F.dequantize_4bit(B, quant_state).to(A.dtype)`: an fp16
// copy and its cast to the activation dtype exist together. The head's
// backward runs right after the loss, with the loss's working set still
// alive, so they are counted there.
int64_t QuantizedHeadDequantBytes(const ModelShape& m, const TrainingOptions& o,
                                  std::string* what) {
  if (!QuantizedHead(m, o) || m.tied_embeddings) return 0;
  const int elem = ActivationElemBytes(o);
  const int64_t params = m.vocab * m.hidden / o.tp;
  *what = absl::StrCat("4-bit LM head dequantized for its matmul: ", params, " x (2 fp16 + ", elem,
                       " cast) bytes");
  return params * (2 + elem);
}

}  // namespace llmtk::internal
