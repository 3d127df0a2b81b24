#pragma once
// The observer hook of the decoder forward: it sees the input of every Linear (once per input
// group: q/k/v share one input, gate/up another) and may replace it (quantization simulation).
#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

namespace mq::core {

class AudioEncoder;
class VisionEncoder;

class ForwardHook {
public:
    virtual ~ForwardHook() = default;
    // x: [rows, K] float32 contiguous, rows = batch * tokens in row-major token order.
    // modality: [rows] uint8, Modality of each row. Returns the tensor the group's Linears
    // consume: x itself to observe only. Must not modify x in place (others may hold it).
    virtual at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality) = 0;
    // After a decoder Linear ran: module index, the input it consumed (what onLinearInput
    // returned) and its output y [rows, out] float32. Observe only; must not modify either.
    virtual void onLinearOutput(int module, const at::Tensor& input, const at::Tensor& y) {}
    // For a hook that only observes (its onLinearInput returns x itself): the decoder offers a
    // group input that it makes row by row (RMSNorm's last products for q/k/v and gate/up,
    // silu(gate) * up for down_proj) as it makes it, so that the hook reads rows while they
    // are still in the cache of the core that made them, within the same parallel region.
    // `out` is the input's tensor, [rows, K] float32 contiguous on the CPU, not yet computed;
    // make(r0, r1) computes its rows r0..r1-1 and may run for disjoint ranges on several
    // threads at once. Returning true, the hook has called make over every row exactly once and
    // observed the rows, and onLinearInput is not called for this input; returning false, it
    // has called nothing and gets onLinearInput as usual. By default false.
    using RowMaker = std::function<void(int64_t r0, int64_t r1)>;
    virtual bool observeAsMade(int group, const at::Tensor& out, const at::Tensor& modality, const RowMaker& make)
    {
        return false;
    }
    // True where both may run for different batches at the same time (forEachParallel in
    // common/runtime.h): a hook that keeps no state of its own while a forward runs.
    virtual bool concurrent() const { return false; }
};

// Replaces the Linear weights of one input group of an encoder tower (VisionEncoder /
// AudioEncoder::withLinearWeights): given the group index (the tower's own, from 0), the group's
// Linears (checkpoint names after the tower's prefix) and their weights (float32 [out, in]),
// returns their new weights in that order, shapes kept.
using LinearWeightMap = std::function<std::vector<at::Tensor>(int group, const std::vector<std::string>& names,
                                                              const std::vector<at::Tensor>& weights)>;
// Calls f on one group's Linears and stores what it returns in their places (float32; a wrong
// count or shape throws Error naming the tower and tensor). Defined in vision_encoder.cpp.
void mapLinearGroup(const LinearWeightMap& f, int group, const std::vector<std::string>& names,
                    const std::vector<at::Tensor*>& weights, const char* tower);

// One input's forward through an encoder tower, step by step (VisionEncoder / AudioEncoder::
// pass; their forward() runs every step of one): step i takes the previous step's output (step 0
// input()) and returns its own; the last step's output is the tower's. Step i's Linear inputs
// are input groups firstGroup(i) .. firstGroup(i + 1) - 1 (numbered as the hook sees them, the
// caller's offset included), so a plan can stop every input at a group, plan it, and go on
// from the step's start (encoder_quant.cpp).
class TowerPass {
public:
    virtual ~TowerPass() = default;
    virtual int steps() const = 0;
    virtual at::Tensor input() const = 0;
    virtual at::Tensor run(int step, const at::Tensor& x, ForwardHook* hook) const = 0;
    virtual int firstGroup(int step) const = 0; // step == steps(): one past the last group
    // Later steps run with these weights instead: the encoder that made the pass or a copy of it
    // with Linears replaced (withLinearWeights). Error for the other tower's encoder.
    virtual void useWeights(const VisionEncoder& weights) = 0;
    virtual void useWeights(const AudioEncoder& weights) = 0;
};

// Every step of a pass in order: the tower's output for its input (what forward() computes).
inline at::Tensor runAllSteps(const TowerPass& pass, ForwardHook* hook)
{
    at::Tensor x = pass.input();
    for (int i = 0; i < pass.steps(); ++i)
        x = pass.run(i, x, hook);
    return x;
}

// Thrown by a hook to end a forward early once it has what it needs (e.g. MDQFO capturing one
// group's input); callers that use it catch it.
struct StopForward {};

} // namespace mq::core
