// GGUF metadata <-> ModelConfig for archs gemma3 and gemma4, with the keys
// and semantics of llama.cpp (convert_hf_to_gguf.py / llama-model.cpp).
//
// llama.cpp cannot express a few things HF configs can: irregular Gemma 3
// layer patterns, query_pre_attn_scalar != head_dim, attention softcapping.
// We write those in extra "qat.*" keys, which llama.cpp ignores, and read
// them back when present, so our own files round-trip exactly.
#pragma once
#include "formats/gguf.h"
#include "model/config.h"

namespace qat {

// Needs the tensor list too: Gemma 4 K=V, tied output and PLE vocab are
// expressed by tensor presence and shapes, not keys.
ModelConfig config_from_gguf(const GgufFile& f);
// general.* and {arch}.* keys, in llama.cpp's order. file_type is
// general.file_type (0 F32, 1 F16, 32 BF16).
void write_gguf_config(GgufWriter& w, const ModelConfig& c, const std::string& name, uint32_t file_type);

}  // namespace qat
