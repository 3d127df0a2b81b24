#pragma once
// The statistics pass's kernels (calib/stats_kernels.cpp): ChannelStats::accumulate's work on a
// range of channels, one kernel per instruction set.
#include "calib/channel_stats.h"

namespace mq::core {

// Channel ranges handed to a kernel are whole multiples of this many channels (the last one
// excepted), so that each keeps the kernels' vector path.
constexpr int64_t kStatsUnit = 32;

// The chunks of a call of `rows` rows (channel_stats.h, kStatsChunkRows): how many, and chunk j's
// first row r0 and row count nr.
inline int64_t statsChunks(int64_t rows) { return (rows + kStatsChunkRows - 1) / kStatsChunkRows; }
inline void statsChunk(int64_t rows, int64_t j, int64_t& r0, int64_t& nr)
{
    r0 = j * kStatsChunkRows;
    nr = rows - r0 < kStatsChunkRows ? rows - r0 : kStatsChunkRows;
}

// Channels [c0, c1) of rows x [rows, k] (row-major): min and max into plo / phi, sum |x| and sum
// x^2 added to psa / pss (each chunk of kStatsChunkRows rows from x summed from 0 in row order,
// then added, chunk by chunk), the histogram's counts added to ph, bin-major ([kHistBins, k]).
// kernel must be one the CPU runs (statsKernel(), setStatsKernel()).
void accumulateStatsRange(StatsKernel kernel, const float* x, int64_t rows, int64_t k, int64_t c0, int64_t c1,
                          float* plo, float* phi, double* psa, double* pss, uint32_t* ph);

} // namespace mq::core
