#include "train/fake_quant_state.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"
#include "quant/quant_types.h"
#include "train/adjacent_tensors.h"
#include "train/fake_quant_ops.h"

namespace qat {

namespace {

bool quantized(TensorType t) { return t == TensorType::Q8_0 || t == TensorType::Q4_0; }

}  // namespace

FakeQuantState::FakeQuantState(Model& model, ModelWeights& grads, const QatConfig& config)
    : model_(model), grads_(grads), config_(config) {
  QuantizeRules rules;
  rules.type = scheme_weight_type(config.scheme);
  rules.overrides = config.overrides;
  plan_ = plan_quantization(model, rules);
  const bool a8 = scheme_quantizes_activations(config.scheme);

  shadow_ = model.weights;  // shares every master's storage until replaced below
  const ModelConfig& c = model.config;
  auto mslots = tensor_slots(c, model.weights);
  auto gslots = tensor_slots(c, grads);
  auto sslots = tensor_slots(c, shadow_);
  for (size_t i = 0; i < mslots.size(); ++i) {
    Tensor& m = *mslots[i].tensor;
    if (!m.present()) continue;
    QAT_CHECK(m.type == TensorType::F32, "fake quantization needs FP32 masters (", mslots[i].gguf_name, ")");
    const TensorPlan* p = plan_.find(mslots[i].gguf_name);
    QAT_CHECK(p, "internal: no quantization plan for ", mslots[i].gguf_name);
    if (p->to == TensorType::F32) continue;
    QAT_CHECK(mslots[i].gguf_name != "per_layer_model_proj.weight" || !quantized(p->to),
              "per_layer_model_proj.weight cannot be quantized under QAT (its input is the residual stream; "
              "llama.cpp keeps it unquantized too): remove the --tensor-type override that selects it");
    Entry e;
    e.gguf_name = mslots[i].gguf_name;
    e.hf_name = mslots[i].hf_name;
    e.master = &m;
    e.grad = gslots[i].tensor;
    e.shadow = sslots[i].tensor;
    e.type = p->to;
    e.quantize_input = a8 && quantized(p->to);
    *e.shadow = Tensor::zeros(TensorType::F32, m.shape);
    e.pass.assign(size_t(m.numel()), 1);
    if (config.lsq && quantized(p->to)) {
      e.scale.assign(size_t(m.numel() / 32), 0.0f);
      e.scale_grad.assign(e.scale.size(), 0.0f);
    }
    entries_.push_back(std::move(e));
  }
  // One layer's q/k/v shadows (and gate/up inputs) must share one path.
  for (size_t l = 0; l < shadow_.layers.size(); ++l) {
    LayerWeights& s = shadow_.layers[l];
    const LayerWeights& m = model.weights.layers[l];
    auto shadowed = [](const Tensor& sh, const Tensor& ma) { return sh.present() && sh.data != ma.data; };
    const bool q = shadowed(s.wq, m.wq), k = shadowed(s.wk, m.wk), v = shadowed(s.wv, m.wv);
    QAT_CHECK((!m.wk.present() || q == k) && (!m.wv.present() || q == v), "layer ", l,
              ": QAT needs the q/k/v projections all quantized or all FP32 (they are one matrix product); "
              "adjust the --tensor-type overrides");
    if (q) make_adjacent({&s.wq, &s.wk, &s.wv});
  }
  for (const Entry& e : entries_)
    if (e.quantize_input) input_quantized_.push_back(e.shadow->data);
  for (size_t l = 0; l < shadow_.layers.size(); ++l) {
    const LayerWeights& s = shadow_.layers[l];
    QAT_CHECK(quantizes_input(s.w_gate) == quantizes_input(s.w_up), "layer ", l,
              ": QAT needs gate and up projections quantized alike (they share one quantized input)");
    if (s.wk.present()) QAT_CHECK(quantizes_input(s.wq) == quantizes_input(s.wk), "layer ", l, ": q/k mismatch");
    if (s.wv.present()) QAT_CHECK(quantizes_input(s.wq) == quantizes_input(s.wv), "layer ", l, ": q/v mismatch");
  }
}

bool FakeQuantState::quantizes_input(const Tensor& w) const {
  return w.present() && std::find(input_quantized_.begin(), input_quantized_.end(),
                                  static_cast<const void*>(w.data)) != input_quantized_.end();
}

void FakeQuantState::add_parameters(ParameterList& params) {
  for (Entry& e : entries_) {
    if (e.scale.empty()) continue;
    Parameter p;
    p.name = e.hf_name + ".qat_scale";
    p.shape = {int64_t(e.scale.size())};
    p.value = e.scale.data();
    p.grad = e.scale_grad.data();
    p.numel = int64_t(e.scale.size());
    p.group = ParamGroup::QuantScale;
    p.lr_scale = config_.scale_lr_ratio;
    params.push_back(p);
  }
}

int FakeQuantState::init_scales(const InputHessians* hessians) {
  int gptq = 0;
  for (Entry& e : entries_)
    if (!e.scale.empty()) {
      const InputHessian* h = nullptr;
      if (hessians)
        if (const auto it = hessians->find(e.master->data); it != hessians->end()) h = it->second.get();
      if (config_.scale_init == QatConfig::ScaleInit::Gptq && h) {
        // The masters become GPTQ's latent values, whose quantization with
        // these scales is GPTQ's result.
        std::vector<float> values(e.master->f32(), e.master->f32() + e.master->numel());
        gptq_quantize(e.type, values.data(), e.master->rows(), e.master->cols(), *h, e.scale.data(), 0.01,
                      e.master->mutable_f32());
        ++gptq;
      } else if (config_.scale_init != QatConfig::ScaleInit::Absmax)
        lsq_init_scales_mse(e.type, e.master->f32(), e.scale.data(), e.master->numel());
      else
        lsq_init_scales(e.type, e.master->f32(), e.scale.data(), e.master->numel());
    }
  return gptq;
}

void FakeQuantState::refresh() {
  for (Entry& e : entries_) {
    const float* w = e.master->f32();
    float* s = e.shadow->mutable_f32();
    if (!e.scale.empty())
      lsq_forward(e.type, w, e.scale.data(), s, e.master->numel());
    else
      weight_fake_quant_forward(e.type, w, s, e.pass.data(), e.master->numel());
  }
}

void FakeQuantState::finish_gradients() {
  std::vector<float> dw;
  for (Entry& e : entries_) {
    const int64_t n = e.master->numel();
    float* g = e.grad->mutable_f32();
    dw.assign(size_t(n), 0.0f);
    if (!e.scale.empty())
      lsq_backward(e.type, e.master->f32(), e.scale.data(), g, dw.data(), e.scale_grad.data(), n);
    else
      weight_fake_quant_backward(dw.data(), g, e.pass.data(), n);
    if (config_.dampen > 0) {
      const float* w = e.master->f32();
      const float* wq = e.shadow->f32();  // q(w) of this step's forward (masters unchanged since refresh)
      for (int64_t i = 0; i < n; ++i) dw[size_t(i)] += config_.dampen * (w[i] - wq[i]);
    }
    std::memcpy(g, dw.data(), sizeof(float) * size_t(n));
  }
}

void FakeQuantState::export_gguf(const std::string& path) const {
  // Learned-scale tensors are quantized here with the very call the forward
  // used (quantize_row_X_scaled); the others stream through the reference
  // quantizer, which is what weight_fake_quant_forward computed.
  std::vector<std::pair<Tensor*, Tensor>> swapped;
  // Weight-only schemes tell the engine to keep activations FP32.
  const ActivationQuant acts = model_.config.activation_quant;
  auto restore = [&] {
    for (auto& [slot, original] : swapped) *slot = std::move(original);
    swapped.clear();
    model_.config.activation_quant = acts;
  };
  model_.config.activation_quant =
      scheme_quantizes_activations(config_.scheme) ? ActivationQuant::Q8_0 : ActivationQuant::None;
  try {
    for (const Entry& e : entries_) {
      if (e.scale.empty()) continue;
      Tensor q = Tensor::zeros(e.type, e.master->shape);
      const int64_t n = e.master->numel();
      if (e.type == TensorType::Q8_0)
        quantize_row_q8_0_scaled(e.master->f32(), e.scale.data(), reinterpret_cast<BlockQ8_0*>(q.owned->data()), n);
      else
        quantize_row_q4_0_scaled(e.master->f32(), e.scale.data(), reinterpret_cast<BlockQ4_0*>(q.owned->data()), n);
      swapped.emplace_back(e.master, *e.master);
      *e.master = std::move(q);
    }
    auto type_of = [this](const TensorSlot& s) {
      const TensorPlan* p = plan_.find(s.gguf_name);
      QAT_CHECK(p, "internal: no plan for tensor '", s.gguf_name, "'");
      return p->to;
    };
    save_gguf_model(model_, path, type_of, gguf_file_type(scheme_weight_type(config_.scheme)), "exporting");
  } catch (...) {
    restore();
    throw;
  }
  restore();
}

}  // namespace qat
