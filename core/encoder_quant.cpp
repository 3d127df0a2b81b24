#include "encoder_quant.h"

#include "common/error.h"
#include "eval/layer_error.h"
#include "model/audio_encoder.h"
#include "model/omni_model.h"
#include "model/vision_encoder.h"
#include "pipeline.h"
#include "quant/weight_quant.h"
#include "streaming.h"

#include <cmath>

namespace mq::core {

namespace {

const OmniCalibration& omniOf(const CalibrationData& calib)
{
    const auto* omni = dynamic_cast<const OmniCalibration*>(&calib);
    if (!omni)
        throw InputError("--quantize-encoders needs a Qwen2.5-Omni manifest calibration (images, audio or video); "
                         "this session is calibrated on " + calib.kind() + " '" + calib.source() + "'");
    return *omni;
}

} // namespace

LinearWeightMap roundedWeights(const WeightQuantSpec& spec, const char* tower)
{
    return [spec, tower](int, const std::vector<std::string>& names, const std::vector<at::Tensor>& ws) {
        const float nvgs = spec.format == WeightFormat::NVFP4 ? nvfp4SharedGlobalScale(ws) : 0.f;
        std::vector<at::Tensor> out;
        for (size_t i = 0; i < ws.size(); ++i) {
            try {
                out.push_back(fakeQuantWeight(ws[i], spec, nvgs));
            } catch (const InputError& e) {
                throw InputError(std::string(tower) + "." + names[i] + ": " + e.what());
            }
        }
        return out;
    };
}

namespace {

// The hook's entries for every group (the decoder's left empty: the encoder hook never sees
// them), each encoder group's calibration range from its statistics, and with fromPlan its
// static bounds and mask from the session's plan.
std::vector<GroupQuant> encoderGroupQuant(const Session& s, const DecoderModel& model,
                                          const std::vector<std::string>& names, bool fromPlan)
{
    const size_t off = model.groups().size();
    std::vector<GroupQuant> out(off + names.size());
    const auto f32 = at::TensorOptions().dtype(at::kFloat);
    for (size_t j = 0; j < names.size(); ++j) {
        GroupQuant& q = out[off + j];
        auto st = s.stats.find(names[j]);
        if (st == s.stats.end())
            throw Error("no calibration statistics for encoder group '" + names[j] + "': calibrate on the manifest again");
        q.channelMin = at::tensor(st->second.pooled.min, f32);
        q.channelMax = at::tensor(st->second.pooled.max, f32);
        setInputRange(q);
        if (!fromPlan)
            continue;
        auto p = s.plans.find(names[j]);
        if (s.settings->act != ActScheme::PerChannelStatic)
            continue;
        if (p == s.plans.end() || p->second.alpha.empty())
            throw Error("the plan quantizes the encoders but has no bounds for encoder group '" + names[j]
                        + "': quantize again");
        const int64_t k = int64_t(st->second.pooled.min.size());
        if (int64_t(p->second.alpha.size()) != k || int64_t(p->second.mask.size()) != k)
            throw Error("plan of encoder group '" + names[j] + "' has " + std::to_string(p->second.alpha.size())
                        + " channels, its statistics " + std::to_string(k));
        q.alpha = at::tensor(p->second.alpha, f32);
        std::vector<float> m(p->second.mask.begin(), p->second.mask.end());
        q.mask = at::tensor(m, f32);
    }
    return out;
}

// Takes group `target`'s input (every item's rows, in item order) and ends that forward.
class CaptureHook : public ForwardHook {
public:
    CaptureHook(ForwardHook* inner, int target) : m_inner(inner), m_target(target) {}
    at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality) override
    {
        if (group == m_target) {
            rows.push_back(x); // the forward stops here and never touches x again
            throw StopForward{};
        }
        return m_inner->onLinearInput(group, x, modality);
    }
    std::vector<at::Tensor> rows;

private:
    ForwardHook* m_inner;
    int m_target;
};

// Runs every sample's encoder inputs through the quantized towers in lockstep, vision then audio,
// one step (block / layer) at a time: the step's Linears are rounded just before it runs (the
// rest of the tower stays as loaded), and the step runs with q's hook on every group before it
// and its own. With plan set, each group of a step is first captured from the step's start
// through the groups already planned and planned (MDQFO on its row sample), in network order.
// The last step's outputs are q's outputs.
void runTowers(EncoderQuant& q, const OmniCalibration& omni, int off, const QuantSettings& settings, Session* plan,
               const std::vector<std::string>& names, const ProgressSink& progress, const CancelToken* cancel)
{
    c10::InferenceMode guard;
    QuantSimHook& prefix = q.simHook();
    const std::shared_ptr<const VisionEncoder> vision = omni.visionEncoder();
    const std::shared_ptr<const AudioEncoder> audio = omni.audioEncoder();
    struct Item {
        std::unique_ptr<TowerPass> pass;
        at::Tensor OmniCalibration::EncoderOutputs::*slot = nullptr;
        size_t sample = 0;
        at::Tensor x;
    };
    std::vector<Item> towers[2];
    for (size_t i = 0; i < omni.samples(); ++i)
        for (OmniCalibration::EncoderPass& e : omni.passes(i, off, vision.get(), audio.get())) {
            Item it;
            it.x = e.pass->input();
            it.pass = std::move(e.pass);
            it.slot = e.slot;
            it.sample = i;
            towers[e.vision ? 0 : 1].push_back(std::move(it));
        }
    const LinearWeightMap roundVision = roundedWeights(settings.weight, "thinker.visual");
    const LinearWeightMap roundAudio = roundedWeights(settings.weight, "thinker.audio_tower");
    size_t planned = 0;
    for (int t = 0; t < 2; ++t) {
        std::vector<Item>& items = towers[t];
        if (items.empty())
            continue;
        const TowerPass& shape = *items.front().pass;
        const int base = shape.firstGroup(0); // the tower's group 0
        for (int step = 0; step < shape.steps(); ++step) {
            const int first = shape.firstGroup(step), end = shape.firstGroup(step + 1);
            // This step's Linears rounded (float32 for them alone), the other weights shared.
            if (t == 0) {
                const VisionEncoder w = vision->withLinearWeights(roundVision, first - base, end - base);
                for (Item& it : items)
                    it.pass->useWeights(w);
            } else {
                const AudioEncoder w = audio->withLinearWeights(roundAudio, first - base, end - base);
                for (Item& it : items)
                    it.pass->useWeights(w);
            }
            for (int g = first; plan && g < end; ++g) {
                const size_t j = size_t(g - off);
                prefix.setActiveLimit(g); // the groups before g quantized, g itself seen as it comes
                CaptureHook cap(&prefix, g);
                for (const Item& it : items) {
                    if (cancel)
                        cancel->check();
                    try {
                        it.pass->run(step, it.x, &cap);
                    } catch (const StopForward&) {
                    }
                }
                if (cap.rows.empty())
                    throw Error("encoder group '" + names[j] + "' saw no calibration input");
                const at::Tensor x = at::cat(cap.rows, 0);
                cap.rows.clear();
                const at::Tensor alpha0 = x.abs().amax(0).clamp_min(1e-8); // over every row, as the decoder's
                const int64_t stride = sampleStride(x.size(0), x.size(1), settings.mdqfo);
                const at::Tensor sample = stride > 1 ? x.slice(0, 0, x.size(0), stride).contiguous() : x;
                GroupQuant gq = prefix.group(g);
                const GroupQuant fromMdqfo = planGroup(*plan, names[j], sample, alpha0, settings, cancel);
                gq.alpha = fromMdqfo.alpha;
                gq.mask = fromMdqfo.mask;
                prefix.setGroup(g, std::move(gq));
                reportGroupPlan(progress, planned++, names.size(), names[j], *plan);
            }
            prefix.setActiveLimit(end);
            for (Item& it : items) {
                if (cancel)
                    cancel->check();
                it.x = it.pass->run(step, it.x, &prefix);
            }
            if (!plan)
                report(progress, "encoders", double(step + 1) / double(shape.steps()),
                       std::string(t == 0 ? "vision" : "audio") + " step " + std::to_string(step + 1) + "/"
                           + std::to_string(shape.steps()));
        }
        for (Item& it : items) {
            q.outputsOf(it.sample).*(it.slot) = it.x;
            it.x = at::Tensor();
            it.pass.reset();
        }
    }
    prefix.setActiveLimit(1 << 30);
}

} // namespace

EncoderQuant::EncoderQuant(const QuantSettings& settings, std::vector<GroupQuant> groups, size_t samples)
    : m_hook(std::make_unique<QuantSimHook>(settings, std::move(groups))), m_outputs(samples)
{
}

EncoderQuant::~EncoderQuant() = default;

void requireEncoderCalibration(const CalibrationData& calib)
{
    omniOf(calib);
    if (calib.extraGroups().empty())
        throw InputError("--quantize-encoders: the manifest '" + calib.source()
                         + "' has no image, video or audio, so no encoder runs on it");
}

std::unique_ptr<EncoderQuant> planEncoders(Session& w, const DecoderModel& model, const CalibrationData& calib,
                                           const QuantSettings& settings, const ProgressSink& progress,
                                           const CancelToken* cancel)
{
    requireEncoderCalibration(calib);
    const OmniCalibration& omni = omniOf(calib);
    const std::vector<std::string> names = calib.extraGroups();
    auto q = std::make_unique<EncoderQuant>(settings, encoderGroupQuant(w, model, names, false), calib.samples());
    // Static per-channel activations are planned here; per-token and per-tensor ones have nothing
    // to search (their ranges come from the statistics).
    runTowers(*q, omni, int(model.groups().size()), settings,
              settings.act == ActScheme::PerChannelStatic ? &w : nullptr, names, progress, cancel);
    return q;
}

std::unique_ptr<EncoderQuant> encoderQuantFromPlan(const Session& s, const DecoderModel& model,
                                                   const CalibrationData& calib, const ProgressSink& progress,
                                                   const CancelToken* cancel)
{
    if (!s.settings || !s.settings->quantizeEncoders)
        throw Error("the session's plan does not quantize the encoders");
    requireEncoderCalibration(calib);
    const std::vector<std::string> names = calib.extraGroups();
    auto q = std::make_unique<EncoderQuant>(*s.settings, encoderGroupQuant(s, model, names, true), calib.samples());
    runTowers(*q, omniOf(calib), int(model.groups().size()), *s.settings, nullptr, names, progress, cancel);
    return q;
}

std::vector<ModuleError> encoderOutputErrors(const CalibrationData& calib, const DecoderModel& model,
                                             const EncoderQuant& q, const ProgressSink& progress,
                                             const CancelToken* cancel)
{
    const OmniCalibration& omni = omniOf(calib);
    c10::InferenceMode guard;
    const int off = int(model.groups().size());
    // [tower][modality]: vision (image, video), audio (the clips and the videos' own audio).
    std::array<std::array<ErrorSums, kNumModalities>, 2> sums{};
    auto add = [&](int tower, Modality m, const at::Tensor& y, const at::Tensor& yq) {
        if (!y.defined())
            return;
        const at::Tensor d = (y - yq).to(at::kDouble), yd = y.to(at::kDouble), qd = yq.to(at::kDouble);
        const at::Tensor ny = (yd * yd).sum(1), nq = (qd * qd).sum(1), ne = (d * d).sum(1), dot = (yd * qd).sum(1);
        at::Tensor cos = dot / (ny * nq).sqrt().clamp_min(1e-300);
        cos = at::where(ne == 0, at::ones_like(cos), cos);
        ErrorSums& e = sums[size_t(tower)][size_t(m)];
        e.signal += ny.sum().item<double>();
        e.noise += ne.sum().item<double>();
        e.cosine += cos.sum().item<double>();
        e.tokens += y.size(0);
    };
    for (size_t i = 0; i < calib.samples(); ++i) {
        if (cancel)
            cancel->check();
        if (!omni.usesVision(i) && !omni.usesAudio(i))
            continue;
        const OmniCalibration::EncoderOutputs fp = omni.encode(i, off, nullptr);
        const OmniCalibration::EncoderOutputs& qo = q.outputs(i);
        add(0, Modality::Image, fp.image, qo.image);
        add(0, Modality::Video, fp.video, qo.video);
        add(1, Modality::Audio, fp.audio, qo.audio);
        add(1, Modality::Audio, fp.videoAudio, qo.videoAudio);
        report(progress, "eval", double(i + 1) / double(calib.samples()),
               "encoders " + std::to_string(i + 1) + "/" + std::to_string(calib.samples()));
    }
    std::vector<ModuleError> out;
    for (int tower = 0; tower < 2; ++tower) {
        ModuleError me = moduleError(tower == 0 ? "vision" : "audio", sums[size_t(tower)]);
        if (me.pooled.tokens > 0)
            out.push_back(std::move(me));
    }
    return out;
}

} // namespace mq::core
