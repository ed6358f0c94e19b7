// HF config.json <-> ModelConfig, for Gemma3ForCausalLM / Gemma4ForCausalLM
// and the multimodal wrappers (their text_config).
#pragma once
#include <string>

#include "model/config.h"

namespace qat {

// Parses the text of a config.json; `path` is only used in error messages.
ModelConfig parse_hf_config(const std::string& json_text, const std::string& path);
// The config.json text for a *ForCausalLM checkpoint (as save_pretrained writes it).
std::string hf_config_json(const ModelConfig& config);

}  // namespace qat
