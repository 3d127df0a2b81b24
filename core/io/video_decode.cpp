#include "io/video_decode.h"

#include "common/error.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <filesystem>
#include <functional>
#include <memory>
#include <new>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

namespace mq::core {

namespace {

// ---- RAII for every FFmpeg object: nothing leaks when an InputError unwinds. ----

struct FormatCloser {
    void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};
struct CodecFreer {
    void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
};
struct PacketFreer {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFreer {
    void operator()(AVFrame* p) const { av_frame_free(&p); }
};
struct SwsFreer {
    void operator()(SwsContext* p) const { sws_freeContext(p); }
};
struct SwrFreer {
    void operator()(SwrContext* p) const { swr_free(&p); }
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecFreer>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFreer>;
using FramePtr = std::unique_ptr<AVFrame, FrameFreer>;
using SwsPtr = std::unique_ptr<SwsContext, SwsFreer>;
using SwrPtr = std::unique_ptr<SwrContext, SwrFreer>;

// An AVDictionary* owned for the scope (avformat_open_input takes AVDictionary**).
struct Dict {
    AVDictionary* d = nullptr;
    Dict() = default;
    Dict(const Dict&) = delete;
    Dict& operator=(const Dict&) = delete;
    ~Dict() { av_dict_free(&d); }
};

// An AVChannelLayout owned for the scope (custom layouts hold a heap map).
struct ChannelLayout {
    AVChannelLayout l{};
    ChannelLayout() = default;
    ChannelLayout(const ChannelLayout&) = delete;
    ChannelLayout& operator=(const ChannelLayout&) = delete;
    ~ChannelLayout() { av_channel_layout_uninit(&l); }
};

template <typename T>
T* checkAlloc(T* p)
{
    if (!p)
        throw std::bad_alloc();
    return p;
}

std::string avError(int code)
{
    char buf[AV_ERROR_MAX_STRING_SIZE] = {};
    if (av_strerror(code, buf, sizeof buf) < 0)
        return "FFmpeg error " + std::to_string(code);
    return buf;
}

std::string codecName(AVCodecID id)
{
    const char* n = avcodec_get_name(id);
    return n ? n : "unknown";
}

// Opens path through the file protocol only, and reads the stream headers.
// FFmpeg's own log (decoder warnings such as "concealing errors in P frame") stays quiet: a file
// it cannot read becomes an InputError naming it. MQ_FFMPEG_LOG=1 in the environment lets
// FFmpeg's messages through again, to see why a file fails.
void quietFfmpegLog()
{
    static std::once_flag once;
    std::call_once(once, [] {
        const char* v = std::getenv("MQ_FFMPEG_LOG");
        if (!v || std::string(v) != "1")
            av_log_set_level(AV_LOG_QUIET);
    });
}

FormatPtr openInput(const std::string& path)
{
    quietFfmpegLog();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw InputError(describe(path, "", "video file not found or not a regular file (expected a media file FFmpeg "
                                            "reads, e.g. MP4, MKV or WebM)"));
    Dict opts;
    // A playlist or concat list inside the file may name only local files, never a URL.
    av_dict_set(&opts.d, "protocol_whitelist", "file", 0);
    AVFormatContext* raw = nullptr;
    // The "file:" prefix keeps a colon in the path from being read as a protocol name.
    const std::string url = "file:" + path;
    const int r = avformat_open_input(&raw, url.c_str(), nullptr, &opts.d);
    if (r < 0) // avformat_open_input frees the context itself on failure
        throw InputError(describe(path, "", "FFmpeg cannot open it as a media file (expected a complete video file such "
                                            "as MP4, MKV or WebM; not a video, corrupt or truncated?): "
                                                + avError(r)));
    FormatPtr fmt(raw);
    const int s = avformat_find_stream_info(fmt.get(), nullptr);
    if (s < 0)
        throw InputError(describe(path, "", "cannot read the streams of the media file: " + avError(s)));
    return fmt;
}

bool isAttachedPicture(const AVStream* st) { return (st->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0; }

// The video stream to read: FFmpeg's best one unless that is cover art, then the first real one.
int findVideoStream(AVFormatContext* fmt, const std::string& path)
{
    const int best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (best >= 0 && !isAttachedPicture(fmt->streams[best]))
        return best;
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
        const AVStream* st = fmt->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !isAttachedPicture(st))
            return int(i);
    }
    throw InputError(describe(path, "", "the file has no video stream (expected at least one video track; found "
                                            + std::to_string(fmt->nb_streams) + " stream(s) of other kinds)"));
}

int findAudioStream(AVFormatContext* fmt)
{
    const int best = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
    return best >= 0 ? best : -1;
}

CodecPtr openDecoder(const AVStream* st, const std::string& path, const char* kind)
{
    const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec)
        throw InputError(describe(path, "", std::string("no decoder for the ") + kind + " codec '"
                                                + codecName(st->codecpar->codec_id)
                                                + "' in this FFmpeg build (expected a codec FFmpeg decodes)"));
    CodecPtr dec(checkAlloc(avcodec_alloc_context3(codec)));
    int r = avcodec_parameters_to_context(dec.get(), st->codecpar);
    if (r < 0)
        throw InputError(describe(path, "", std::string("bad ") + kind + " stream parameters: " + avError(r)));
    dec->pkt_timebase = st->time_base;
    dec->thread_count = 0; // as many as FFmpeg sees fit; the output is the same
    r = avcodec_open2(dec.get(), codec, nullptr);
    if (r < 0)
        throw InputError(describe(path, "", std::string("cannot open the ") + kind + " decoder '" + codec->name
                                                + "': " + avError(r)));
    return dec;
}

// Reads the packets of stream `index`, feeds them to dec and hands every frame it outputs to
// onFrame (the frame is unreferenced afterwards) until onFrame returns false or the decoder is
// drained at the end of the file. Demuxer and decoder errors throw InputError naming the file.
void decodeStream(AVFormatContext* fmt, int index, AVCodecContext* dec, const std::string& path, const char* kind,
                  const std::function<bool(const AVFrame*)>& onFrame)
{
    PacketPtr pkt(checkAlloc(av_packet_alloc()));
    FramePtr frame(checkAlloc(av_frame_alloc()));
    int64_t packets = 0;
    // Takes every frame the decoder has ready; false when onFrame asked to stop.
    const auto receive = [&]() -> bool {
        for (;;) {
            const int r = avcodec_receive_frame(dec, frame.get());
            if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
                return true;
            if (r < 0)
                throw InputError(describe(path, "", std::string("the ") + kind + " decoder failed after "
                                                        + std::to_string(packets) + " packet(s) (corrupt data?): "
                                                        + avError(r)));
            const bool more = onFrame(frame.get());
            av_frame_unref(frame.get());
            if (!more)
                return false;
        }
    };
    for (;;) {
        const int r = av_read_frame(fmt, pkt.get());
        if (r == AVERROR_EOF)
            break;
        if (r < 0)
            throw InputError(describe(path, "", "cannot read the media file past its " + std::to_string(packets) + " "
                                                    + kind + " packet(s) (corrupt or truncated?): " + avError(r)));
        if (pkt->stream_index != index) {
            av_packet_unref(pkt.get());
            continue;
        }
        ++packets;
        const int s = avcodec_send_packet(dec, pkt.get());
        av_packet_unref(pkt.get());
        // Every ready frame is received after each packet, so EAGAIN cannot occur here.
        if (s < 0)
            throw InputError(describe(path, "", std::string("the ") + kind + " decoder rejected packet "
                                                    + std::to_string(packets) + " (corrupt data?): " + avError(s)));
        if (!receive())
            return;
    }
    const int s = avcodec_send_packet(dec, nullptr); // flush: the frames still held back
    if (s < 0 && s != AVERROR_EOF)
        throw InputError(describe(path, "", std::string("cannot flush the ") + kind + " decoder: " + avError(s)));
    receive();
}

// libswscale's YUV (or other) -> RGB24 at the frame's own size, rebuilt when the frame's format,
// size, matrix or range changes. The matrix and range follow the frame, as the ffmpeg CLI's scale
// filter does (an unknown matrix is BT.601), so the result matches `ffmpeg -pix_fmt rgb24`.
class RgbConverter {
public:
    RgbImage convert(const AVFrame* f, const std::string& path)
    {
        if (f->width <= 0 || f->height <= 0 || f->format < 0)
            throw InputError(describe(path, "", "the decoder gave a frame of " + std::to_string(f->width) + "x"
                                                    + std::to_string(f->height)
                                                    + " without a pixel format (expected a decoded picture)"));
        AVPixelFormat src = AVPixelFormat(f->format);
        bool fullRange = f->color_range == AVCOL_RANGE_JPEG;
        // The deprecated full-range "J" formats: libswscale wants the plain format and the range.
        switch (src) {
        case AV_PIX_FMT_YUVJ420P: src = AV_PIX_FMT_YUV420P; fullRange = true; break;
        case AV_PIX_FMT_YUVJ422P: src = AV_PIX_FMT_YUV422P; fullRange = true; break;
        case AV_PIX_FMT_YUVJ444P: src = AV_PIX_FMT_YUV444P; fullRange = true; break;
        case AV_PIX_FMT_YUVJ440P: src = AV_PIX_FMT_YUV440P; fullRange = true; break;
        case AV_PIX_FMT_YUVJ411P: src = AV_PIX_FMT_YUV411P; fullRange = true; break;
        default: break;
        }
        int matrix = int(f->colorspace);
        if (matrix < 1 || matrix > 10 || matrix == int(AVCOL_SPC_YCGCO)) // as vf_scale's "auto"
            matrix = int(AVCOL_SPC_BT470BG);
        if (!sws_ || f->width != width_ || f->height != height_ || src != format_ || matrix != matrix_
            || fullRange != fullRange_) {
            sws_.reset(sws_getContext(f->width, f->height, src, f->width, f->height, AV_PIX_FMT_RGB24, SWS_BICUBIC,
                                      nullptr, nullptr, nullptr));
            if (!sws_) {
                const char* name = av_get_pix_fmt_name(src);
                throw InputError(describe(path, "", std::string("cannot convert the pixel format '")
                                                        + (name ? name : "unknown") + "' of a " + std::to_string(f->width)
                                                        + "x" + std::to_string(f->height)
                                                        + " frame to RGB (expected a format libswscale reads)"));
            }
            sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(matrix), fullRange ? 1 : 0,
                                     sws_getCoefficients(SWS_CS_DEFAULT), 0, 0, 1 << 16, 1 << 16);
            rgb_.reset(checkAlloc(av_frame_alloc()));
            rgb_->format = AV_PIX_FMT_RGB24;
            rgb_->width = f->width;
            rgb_->height = f->height;
            // FFmpeg's own padded, aligned buffer: SIMD paths may write past width * 3 in a row.
            if (av_frame_get_buffer(rgb_.get(), 0) < 0)
                throw std::bad_alloc();
            width_ = f->width;
            height_ = f->height;
            format_ = src;
            matrix_ = matrix;
            fullRange_ = fullRange;
        }
        const int rows = sws_scale(sws_.get(), f->data, f->linesize, 0, f->height, rgb_->data, rgb_->linesize);
        if (rows != f->height)
            throw InputError(describe(path, "", "RGB conversion of a frame gave " + std::to_string(rows) + " of "
                                                    + std::to_string(f->height) + " rows"));
        RgbImage img;
        img.width = f->width;
        img.height = f->height;
        const size_t rowBytes = size_t(f->width) * 3;
        img.pixels.resize(rowBytes * size_t(f->height));
        for (int y = 0; y < f->height; ++y)
            std::memcpy(img.pixels.data() + size_t(y) * rowBytes, rgb_->data[0] + ptrdiff_t(y) * rgb_->linesize[0],
                        rowBytes);
        return img;
    }

private:
    SwsPtr sws_;
    FramePtr rgb_;
    int width_ = -1, height_ = -1, matrix_ = -1;
    AVPixelFormat format_ = AV_PIX_FMT_NONE;
    bool fullRange_ = false;
};

double rationalOrZero(AVRational r) { return (r.num > 0 && r.den > 0) ? av_q2d(r) : 0.0; }

} // namespace

VideoInfo probeVideo(const std::string& path)
{
    FormatPtr fmt = openInput(path);
    const int index = findVideoStream(fmt.get(), path);
    const AVStream* st = fmt->streams[index];

    VideoInfo info;
    info.width = st->codecpar->width;
    info.height = st->codecpar->height;
    info.fps = rationalOrZero(st->avg_frame_rate);
    if (info.fps == 0.0)
        info.fps = rationalOrZero(st->r_frame_rate);
    info.hasAudio = findAudioStream(fmt.get()) >= 0;

    PacketPtr pkt(checkAlloc(av_packet_alloc()));
    for (;;) {
        const int r = av_read_frame(fmt.get(), pkt.get());
        if (r == AVERROR_EOF)
            break;
        if (r < 0)
            throw InputError(describe(path, "", "cannot read the media file past its " + std::to_string(info.frames)
                                                    + " video packet(s) (corrupt or truncated?): " + avError(r)));
        // Packets the demuxer marks for discarding (before an edit list's start) give no frame.
        if (pkt->stream_index == index && !(pkt->flags & AV_PKT_FLAG_DISCARD))
            ++info.frames;
        av_packet_unref(pkt.get());
    }

    if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
        info.durationSeconds = double(fmt->duration) / AV_TIME_BASE;
    else if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        info.durationSeconds = double(st->duration) * av_q2d(st->time_base);
    else if (info.fps > 0.0)
        info.durationSeconds = double(info.frames) / info.fps;
    return info;
}

std::vector<RgbImage> decodeVideoFrames(const std::string& path, const std::vector<int64_t>& indices)
{
    for (size_t i = 0; i < indices.size(); ++i) {
        if (indices[i] < 0 || (i > 0 && indices[i] <= indices[i - 1]))
            throw InputError(describe(path, "", "frame index " + std::to_string(indices[i]) + " at position "
                                                    + std::to_string(i)
                                                    + ": expected non-negative, strictly increasing frame indices"));
    }
    FormatPtr fmt = openInput(path);
    const int index = findVideoStream(fmt.get(), path);
    std::vector<RgbImage> out;
    if (indices.empty())
        return out;
    // Only the chosen stream's packets are read and decoded.
    for (unsigned i = 0; i < fmt->nb_streams; ++i)
        fmt->streams[i]->discard = int(i) == index ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    CodecPtr dec = openDecoder(fmt->streams[index], path, "video");
    out.reserve(indices.size());

    RgbConverter rgb;
    int64_t decoded = 0;
    size_t next = 0;
    decodeStream(fmt.get(), index, dec.get(), path, "video", [&](const AVFrame* f) {
        if (decoded == indices[next]) {
            out.push_back(rgb.convert(f, path));
            ++next;
        }
        ++decoded;
        return next < indices.size();
    });
    if (next < indices.size())
        throw InputError(describe(path, "", "frame index " + std::to_string(indices[next])
                                                + " is past the end: the video decoded to " + std::to_string(decoded)
                                                + " frame(s) (expected indices below that)"));
    return out;
}

DecodedAudio decodeAudioTrack(const std::string& path)
{
    FormatPtr fmt = openInput(path);
    const int index = findAudioStream(fmt.get());
    if (index < 0)
        throw InputError(describe(path, "", "the file has no audio stream (expected an audio track to decode)"));
    for (unsigned i = 0; i < fmt->nb_streams; ++i)
        fmt->streams[i]->discard = int(i) == index ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    CodecPtr dec = openDecoder(fmt->streams[index], path, "audio");

    DecodedAudio audio;
    SwrPtr swr;
    ChannelLayout inLayout; // of the frames swr was set up for
    int inRate = 0;
    AVSampleFormat inFormat = AV_SAMPLE_FMT_NONE;
    std::vector<float> block;

    // Resampler input is taken from each frame, since the stream header may leave it unspecified.
    const auto setup = [&](const AVFrame* f) {
        ChannelLayout layout;
        if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || f->ch_layout.nb_channels <= 0) {
            if (f->ch_layout.nb_channels <= 0)
                throw InputError(describe(path, "", "an audio frame has no channels (expected at least one)"));
            av_channel_layout_default(&layout.l, f->ch_layout.nb_channels);
        } else if (av_channel_layout_copy(&layout.l, &f->ch_layout) < 0) {
            throw std::bad_alloc();
        }
        if (swr && f->sample_rate == inRate && f->format == inFormat
            && av_channel_layout_compare(&layout.l, &inLayout.l) == 0)
            return;
        if (f->sample_rate <= 0)
            throw InputError(describe(path, "", "an audio frame has sample rate " + std::to_string(f->sample_rate)
                                                    + " (expected a positive rate)"));
        if (audio.sampleRate != 0 && f->sample_rate != audio.sampleRate)
            throw InputError(describe(path, "", "the audio sample rate changes from " + std::to_string(audio.sampleRate)
                                                    + " to " + std::to_string(f->sample_rate)
                                                    + " Hz mid-stream (expected one rate)"));
        ChannelLayout mono;
        av_channel_layout_default(&mono.l, 1);
        SwrContext* raw = nullptr;
        int r = swr_alloc_set_opts2(&raw, &mono.l, AV_SAMPLE_FMT_FLT, f->sample_rate, &layout.l,
                                    AVSampleFormat(f->format), f->sample_rate, 0, nullptr);
        SwrPtr next(raw);
        if (r < 0 || !next)
            throw InputError(describe(path, "", "cannot set up the audio mix-down: " + avError(r)));
        // Equal weights: the mean of the channels (libswresample's default would sum at -3 dB).
        const int ch = layout.l.nb_channels;
        std::vector<double> matrix(size_t(ch), 1.0 / ch);
        r = swr_set_matrix(next.get(), matrix.data(), ch);
        if (r >= 0)
            r = swr_init(next.get());
        if (r < 0)
            throw InputError(describe(path, "", "cannot set up the audio mix-down of " + std::to_string(ch)
                                                    + " channel(s): " + avError(r)));
        // Same rate in and out: nothing is buffered inside swr, so no flush is lost by replacing it.
        swr = std::move(next);
        av_channel_layout_uninit(&inLayout.l);
        if (av_channel_layout_copy(&inLayout.l, &layout.l) < 0)
            throw std::bad_alloc();
        inRate = f->sample_rate;
        inFormat = AVSampleFormat(f->format);
        audio.sampleRate = f->sample_rate;
        audio.sourceChannels = std::max(audio.sourceChannels, ch);
    };

    decodeStream(fmt.get(), index, dec.get(), path, "audio", [&](const AVFrame* f) {
        if (f->nb_samples <= 0)
            return true;
        setup(f);
        block.resize(size_t(f->nb_samples));
        uint8_t* outPlanes[1] = {reinterpret_cast<uint8_t*>(block.data())};
        const int got = swr_convert(swr.get(), outPlanes, f->nb_samples, const_cast<const uint8_t**>(f->extended_data),
                                    f->nb_samples);
        if (got < 0)
            throw InputError(describe(path, "", "audio mix-down failed: " + avError(got)));
        audio.samples.insert(audio.samples.end(), block.begin(), block.begin() + got);
        return true;
    });
    if (audio.samples.empty())
        throw InputError(describe(path, "", "the audio stream decoded to no samples (expected at least one)"));
    return audio;
}

} // namespace mq::core
