<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>main</name>
    <message>
        <source>MorphoQuant Workbench</source>
        <translation>MorphoQuant 工作台</translation>
    </message>
    <message>
        <source>Save a 1400x900 picture of the window to &lt;png&gt; and exit.</source>
        <translation>将 1400x900 的窗口截图保存到 &lt;png&gt; 后退出。</translation>
    </message>
    <message>
        <source>Bring these views to the front (comma-separated: %1).</source>
        <translation>将这些视图置于前台（以逗号分隔：%1）。</translation>
    </message>
    <message>
        <source>Select this input group (e.g. layers.1.o_in) in every view.</source>
        <translation>在所有视图中选中此输入组（例如 layers.1.o_in）。</translation>
    </message>
    <message>
        <source>Session file (.mqs) or model folder to open.</source>
        <translation>要打开的会话文件（.mqs）或模型文件夹。</translation>
    </message>
    <message>
        <source>Window size of --screenshot (default 1400x900).</source>
        <translation>--screenshot 的窗口大小（默认 1400x900）。</translation>
    </message>
</context>
<context>
    <name>mq::ui::DispersionHeatmapView</name>
    <message>
        <source>mask differs</source>
        <translation>掩码不同</translation>
    </message>
    <message>
        <source>Dispersion score D&lt;sub&gt;c&lt;/sub&gt;:</source>
        <translation>离散度分数 D&lt;sub&gt;c&lt;/sub&gt;：</translation>
    </message>
    <message>
        <source>code: |max−min| / log(1 + mean|x| + 1e-5)</source>
        <translation>代码：|max−min| / log(1 + mean|x| + 1e-5)</translation>
    </message>
    <message>
        <source>paper: |max−min| / log(‖X_c‖₁ + eps)</source>
        <translation>论文：|max−min| / log(‖X_c‖₁ + eps)</translation>
    </message>
    <message>
        <source>input channel</source>
        <translation>输入通道</translation>
    </message>
    <message>
        <source>input group</source>
        <translation>输入组</translation>
    </message>
    <message>
        <source>group %1
channel %2
D_c = %3</source>
        <translation>组 %1
通道 %2
D_c = %3</translation>
    </message>
    <message>
        <source>
(each column shows the largest D_c of %1 channels; zoom in to see each one)</source>
        <translation>
（每一列显示 %1 个通道中最大的 D_c；放大可逐个查看）</translation>
    </message>
    <message>
        <source>Tokens:</source>
        <translation>Token：</translation>
    </message>
    <message>
        <source>D_c (%1)</source>
        <translation>D_c（%1）</translation>
    </message>
</context>
<context>
    <name>mq::ui::ExportDialog</name>
    <message>
        <source>morphoquant-sim: float32 weights on the quantization grid, activation bounds and DABC masks as tensors</source>
        <translation>morphoquant-sim：float32 权重取量化网格上的值，激活边界和 DABC 掩码以张量形式保存</translation>
    </message>
    <message>
        <source>compressed-tensors: packed INT4/INT8 weights (W4A16, W8A16, INT W4A4, W8A8)</source>
        <translation>compressed-tensors：打包的 INT4/INT8 权重（W4A16、W8A16、INT W4A4、W8A8）</translation>
    </message>
    <message>
        <source>nvfp4: nvfp4-pack-quantized (NVFP4 weights, NVFP4 or 16-bit activations)</source>
        <translation>nvfp4：nvfp4-pack-quantized（NVFP4 权重，NVFP4 或 16 位激活）</translation>
    </message>
    <message>
        <source>morphoquant: packed int weights, static per-channel activation scales, DABC masks</source>
        <translation>morphoquant：打包的整数权重、静态逐通道激活缩放和 DABC 掩码</translation>
    </message>
    <message>
        <source>Every format is read back by morphoquant-cli eval --model FOLDER; packed formats are checked against vLLM&apos;s loading rules before they are renamed into place.</source>
        <translation>每种格式都可由 morphoquant-cli eval --model FOLDER 读回；打包格式在重命名到目标位置之前会按 vLLM 的加载规则检查。</translation>
    </message>
    <message>
        <source>Served by:</source>
        <translation>可由以下加载：</translation>
    </message>
    <message>
        <source>
Check: passes the loading rules; no vLLM scheme serves it (%1)</source>
        <translation>
检查：符合加载规则；没有 vLLM 方案可以运行它（%1）</translation>
    </message>
    <message>
        <source>
Check: passes the loading rules; vLLM serves it with %1</source>
        <translation>
检查：符合加载规则；vLLM 以 %1 运行它</translation>
    </message>
    <message>
        <source>This plan cannot be written as %1: %2</source>
        <translation>此方案无法写为 %1：%2</translation>
    </message>
    <message>
        <source>Export Quantized Model</source>
        <translation>导出量化模型</translation>
    </message>
    <message>
        <source>Choose the folder to write</source>
        <translation>选择要写入的文件夹</translation>
    </message>
    <message>
        <source>Replace the folder if it exists</source>
        <translation>如果文件夹已存在则替换</translation>
    </message>
    <message>
        <source>Plan: %1</source>
        <translation>方案：%1</translation>
    </message>
    <message>
        <source>This session has no quantization plan: quantize first.</source>
        <translation>此会话没有量化方案：请先进行量化。</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Cancel Export</source>
        <translation>取消导出</translation>
    </message>
    <message>
        <source>Format:</source>
        <translation>格式：</translation>
    </message>
    <message>
        <source>Folder:</source>
        <translation>文件夹：</translation>
    </message>
    <message>
        <source>Wrote %1
%2, %3 tensors, %4 MB in %5
%6
DABC compensates %7 of %8 input channels</source>
        <translation>已写入 %1
%2，%3 个张量，%4 MB，耗时 %5
%6
DABC 补偿了 %8 个输入通道中的 %7 个</translation>
    </message>
    <message>
        <source>
%1: perplexity %2 on %3</source>
        <translation>
%1：在 %3 上的困惑度 %2</translation>
    </message>
    <message>
        <source>Export cancelled; nothing was written.</source>
        <translation>导出已取消；未写入任何内容。</translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation>导出失败：%1</translation>
    </message>
    <message>
        <source>Export Folder</source>
        <translation>导出文件夹</translation>
    </message>
    <message>
        <source>Choose a folder to write.</source>
        <translation>请选择要写入的文件夹。</translation>
    </message>
    <message>
        <source>Another job is running; wait for it or cancel it first.</source>
        <translation>另一个任务正在运行；请等待其完成或先将其取消。</translation>
    </message>
    <message>
        <source>Exporting...</source>
        <translation>正在导出...</translation>
    </message>
</context>
<context>
    <name>mq::ui::JobPanel</name>
    <message>
        <source>Starting: %1</source>
        <translation>正在开始：%1</translation>
    </message>
    <message>
        <source>%1 started</source>
        <translation>%1 已开始</translation>
    </message>
    <message>
        <source>%1 elapsed, estimating...</source>
        <translation>已用 %1，正在估算...</translation>
    </message>
    <message>
        <source>loading the model</source>
        <translation>加载模型</translation>
    </message>
    <message>
        <source>calibration</source>
        <translation>校准</translation>
    </message>
    <message>
        <source>MDQFO</source>
        <translation>MDQFO</translation>
    </message>
    <message>
        <source>layer errors</source>
        <translation>层误差</translation>
    </message>
    <message>
        <source>evaluation</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop the job; the session stays as it was before the job (Esc)</source>
        <translation>停止任务；会话保持任务开始前的状态（Esc）</translation>
    </message>
    <message>
        <source>Cancelling...</source>
        <translation>正在取消...</translation>
    </message>
    <message>
        <source>%1 finished in %2: %3</source>
        <translation>%1 已完成，耗时 %2：%3</translation>
    </message>
    <message>
        <source>%1 cancelled after %2; the session is unchanged</source>
        <translation>%1 在 %2 后被取消；会话未更改</translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation>%1 失败：%2</translation>
    </message>
    <message>
        <source>Starting...</source>
        <translation>正在启动...</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>estimating...</source>
        <translation>正在估算...</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>剩余 %1</translation>
    </message>
    <message>
        <source>No job running</source>
        <translation>没有正在运行的任务</translation>
    </message>
    <message>
        <source>Calibrate, quantize, evaluate and export from the Study menu.</source>
        <translation>可从“研究”菜单进行校准、量化、评估和导出。</translation>
    </message>
</context>
<context>
    <name>mq::ui::LayerErrorModel</name>
    <message>
        <source>%1
input group %2</source>
        <translation>%1
输入组 %2</translation>
    </message>
    <message>
        <source>Out of date: measured under an earlier plan. %1, %2 tokens: SQNR %3 dB, cosine %4</source>
        <translation>已过期：在较早的方案下测得。%1，%2 个词元：SQNR %3 dB，余弦 %4</translation>
    </message>
    <message>
        <source>%1, %2 tokens: SQNR %3 dB, cosine %4</source>
        <translation>%1，%2 个 token：SQNR %3 dB，余弦 %4</translation>
    </message>
    <message>
        <source>Mean cosine similarity of the full-precision and quantized outputs, per token</source>
        <translation>全精度输出与量化输出的逐 token 余弦相似度的平均值</translation>
    </message>
    <message>
        <source>Signal to quantization noise ratio of the module&apos;s output: 10 log10(sum |y|^2 / sum |y - yq|^2)</source>
        <translation>模块输出的信号与量化噪声比：10 log10(sum |y|^2 / sum |y - yq|^2)</translation>
    </message>
    <message>
        <source>Module</source>
        <translation>模块</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>cos %1</source>
        <translation>cos %1</translation>
    </message>
    <message>
        <source>SQNR %1 (dB)</source>
        <translation>SQNR %1 (dB)</translation>
    </message>
</context>
<context>
    <name>mq::ui::LayerErrorView</name>
    <message>
        <source>the layer errors</source>
        <translation>层误差</translation>
    </message>
    <message>
        <source>the perplexity</source>
        <translation>困惑度</translation>
    </message>
    <message>
        <source> and </source>
        <translation>和</translation>
    </message>
    <message>
        <source>Out of date: %1 were measured under an earlier plan (masks, bounds or settings changed since). Study → Quantize measures the errors again, Study → Evaluate the perplexity.</source>
        <translation>已过期：%1 是在较早的方案下测得的（此后掩码、边界或设置已更改）。“研究 → 量化”重新测量误差，“研究 → 评估”重新测量困惑度。</translation>
    </message>
    <message>
        <source>&lt;i&gt;(out of date)&lt;/i&gt;</source>
        <translation>&lt;i&gt;（已过期）&lt;/i&gt;</translation>
    </message>
    <message>
        <source>No layer errors in this session: run Study → Quantize to measure them.</source>
        <translation>此会话中没有层误差：请运行“研究 → 量化”进行测量。</translation>
    </message>
    <message>
        <source>No quantization plan yet.</source>
        <translation>尚无量化方案。</translation>
    </message>
    <message numerus="yes">
        <source>%n module(s); SQNR and cosine of each Linear&apos;s output with its full-precision input.</source>
        <translation>
            <numerusform>%n 个模块；各 Linear 在全精度输入下输出的 SQNR 与余弦相似度。</numerusform>
        </translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt;: perplexity %2 (NLL %3, %4 tokens)</source>
        <translation>&lt;b&gt;%1&lt;/b&gt;：困惑度 %2（NLL %3，%4 个 token）</translation>
    </message>
    <message>
        <source>, %1% vs full precision</source>
        <translation>，相对全精度 %1%</translation>
    </message>
    <message>
        <source>, KL divergence %1 nats per token</source>
        <translation>，KL 散度 每词元 %1 奈特</translation>
    </message>
    <message>
        <source>%1 %2</source>
        <translation>%1 %2</translation>
    </message>
    <message>
        <source> (KL by modality: %1)</source>
        <translation>（按模态的 KL：%1）</translation>
    </message>
    <message>
        <source>%1 SQNR %2 dB</source>
        <translation>%1 SQNR %2 dB</translation>
    </message>
    <message>
        <source>vision</source>
        <translation>视觉</translation>
    </message>
    <message>
        <source>audio</source>
        <translation>音频</translation>
    </message>
    <message>
        <source>; quantized encoders: %1</source>
        <translation>；量化后的编码器：%1</translation>
    </message>
</context>
<context>
    <name>mq::ui::LossCurveView</name>
    <message>
        <source>Out of date: an earlier plan's (Study → Quantize)</source>
        <translation>已过期：较早方案的结果（研究 → 量化）</translation>
    </message>
    <message>
        <source>%1: all %2 channels compensated (16-bit), nothing for MDQFO to clip</source>
        <translation>%1：全部 %2 个通道已补偿（16 位），MDQFO 无可裁剪</translation>
    </message>
    <message>
        <source>MDQFO loss of %1</source>
        <translation>%1 的 MDQFO 损失</translation>
    </message>
    <message>
        <source>%1: no MDQFO curve (quantize with MDQFO on)</source>
        <translation>%1：无 MDQFO 曲线（请启用 MDQFO 后量化）</translation>
    </message>
    <message>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>L_p</source>
        <translation>L_p</translation>
    </message>
    <message>
        <source>L_cos</source>
        <translation>L_cos</translation>
    </message>
    <message>
        <source>total</source>
        <translation>总计</translation>
    </message>
</context>
<context>
    <name>mq::ui::MainWindow</name>
    <message>
        <source>Compare</source>
        <translation>比较</translation>
    </message>
    <message>
        <source>&amp;Compare With Session...</source>
        <translation>与会话比较(&amp;C)...</translation>
    </message>
    <message>
        <source>Compare With Session</source>
        <translation>与会话比较</translation>
    </message>
    <message>
        <source>&amp;Keep Plan for Comparison</source>
        <translation>保留方案用于比较(&amp;K)</translation>
    </message>
    <message>
        <source>Compare the plans you build next with this one (the Compare view)</source>
        <translation>将之后构建的方案与此方案比较（比较视图）</translation>
    </message>
    <message>
        <source>Cannot compare</source>
        <translation>无法比较</translation>
    </message>
    <message>
        <source>Cannot compare: %1</source>
        <translation>无法比较：%1</translation>
    </message>
    <message>
        <source>snapshot %1</source>
        <translation>快照 %1</translation>
    </message>
    <message>
        <source>This plan is kept as B: quantize with other settings, then read the Compare view.</source>
        <translation>此方案已保留为 B：用其他设置量化，然后查看比较视图。</translation>
    </message>
    <message>
        <source>Sensitivity</source>
        <translation>敏感度</translation>
    </message>
    <message>
        <source>&amp;Guide and Glossary</source>
        <translation>指南和术语表(&amp;G)</translation>
    </message>
    <message>
        <source>The plan follows these settings, but its layer errors or perplexity were measured before the last edit: Quantize (or Evaluate) to refresh them.</source>
        <translation>方案与这些设置一致，但其层误差或困惑度是在上次编辑之前测得的：请量化（或评估）以刷新。</translation>
    </message>
    <message>
        <source> (out of date: an earlier plan's)</source>
        <translation>（已过期：较早方案的结果）</translation>
    </message>
    <message>
        <source>MorphoQuant Workbench</source>
        <translation>MorphoQuant 工作台</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open Session...</source>
        <translation>打开会话(&amp;O)...</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About MorphoQuant Workbench</source>
        <translation>关于 MorphoQuant 工作台(&amp;A)</translation>
    </message>
    <message>
        <source>Open a session (.mqs) made by morphoquant-cli quantize --session.</source>
        <translation>打开由 morphoquant-cli quantize --session 生成的会话（.mqs）。</translation>
    </message>
    <message>
        <source>Unmask channel %1 of %2</source>
        <translation>取消掩码 %2 的通道 %1</translation>
    </message>
    <message>
        <source>Mask channel %1 of %2</source>
        <translation>掩码 %2 的通道 %1</translation>
    </message>
    <message>
        <source>
Plan: %1, %2 channels compensated by DABC</source>
        <translation>
方案：%1，DABC 补偿了 %2 个通道</translation>
    </message>
    <message>
        <source>
%1: perplexity %2</source>
        <translation>
%1：困惑度 %2</translation>
    </message>
    <message>
        <source>Opened %1</source>
        <translation>已打开 %1</translation>
    </message>
    <message>
        <source>k %1 → %2</source>
        <translation>k %1 → %2</translation>
    </message>
    <message>
        <source>DABC threshold settings</source>
        <translation>DABC 阈值设置</translation>
    </message>
    <message>
        <source>Cannot compute the DABC mask: %1</source>
        <translation>无法计算 DABC 掩码：%1</translation>
    </message>
    <message>
        <source>Channel %1 of %2</source>
        <translation>%2 的通道 %1</translation>
    </message>
    <message>
        <source>Modules</source>
        <translation>模块</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>概要</translation>
    </message>
    <message>
        <source>Dispersion Heatmap</source>
        <translation>离散度热图</translation>
    </message>
    <message>
        <source>Outliers</source>
        <translation>离群值</translation>
    </message>
    <message>
        <source>DABC Mask</source>
        <translation>DABC 掩码</translation>
    </message>
    <message>
        <source>MDQFO Loss</source>
        <translation>MDQFO 损失</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>Re&amp;load</source>
        <translation>重新加载(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Export Plot</source>
        <translation>导出图表(&amp;E)</translation>
    </message>
    <message>
        <source>Dispersion Heatmap...</source>
        <translation>离散度热图...</translation>
    </message>
    <message>
        <source>Outliers...</source>
        <translation>离群值...</translation>
    </message>
    <message>
        <source>DABC Mask...</source>
        <translation>DABC 掩码...</translation>
    </message>
    <message>
        <source>MDQFO Loss...</source>
        <translation>MDQFO 损失...</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>撤销(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>重做(&amp;R)</translation>
    </message>
    <message>
        <source>Cannot open session</source>
        <translation>无法打开会话</translation>
    </message>
    <message>
        <source>Could not open %1</source>
        <translation>无法打开 %1</translation>
    </message>
    <message>
        <source>Recomputing the DABC mask...</source>
        <translation>正在重新计算 DABC 掩码...</translation>
    </message>
    <message numerus="yes">
        <source>%n channel(s) compensated</source>
        <translation>
            <numerusform>已补偿 %n 个通道</numerusform>
        </translation>
    </message>
    <message>
        <source>No session</source>
        <translation>无会话</translation>
    </message>
    <message>
        <source>Model %1 (%2)
%3 Linear modules in %4 input groups
%5 calibration tokens</source>
        <translation>模型 %1（%2）
%3 个 Linear 模块，分属 %4 个输入组
%5 个校准 token</translation>
    </message>
    <message>
        <source>

Current input group: %1</source>
        <translation>

当前输入组：%1</translation>
    </message>
    <message>
        <source>Model: %1 (%2)</source>
        <translation>模型：%1（%2）</translation>
    </message>
    <message>
        <source>Plan: %1, %2 masked channels</source>
        <translation>方案：%1，%2 个掩码通道</translation>
    </message>
    <message>
        <source>No plan</source>
        <translation>无方案</translation>
    </message>
    <message>
        <source>Open Session</source>
        <translation>打开会话</translation>
    </message>
    <message>
        <source>MorphoQuant sessions (*.mqs);;All files (*)</source>
        <translation>MorphoQuant 会话 (*.mqs);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Clear List</source>
        <translation>清空列表</translation>
    </message>
    <message>
        <source>About MorphoQuant Workbench</source>
        <translation>关于 MorphoQuant 工作台</translation>
    </message>
    <message>
        <source>MorphoQuant Workbench %1
Modality-aware 4-bit post-training quantization (DABC + MDQFO).</source>
        <translation>MorphoQuant 工作台 %1
模态感知的 4 位训练后量化（DABC + MDQFO）。</translation>
    </message>
    <message>
        <source>Token ids (JSONL with input_ids)</source>
        <translation>Token ID（含 input_ids 的 JSONL）</translation>
    </message>
    <message>
        <source>Qwen2.5-Omni manifest (JSONL with text, images, audio, video)</source>
        <translation>Qwen2.5-Omni 清单（含文本、图像、音频、视频的 JSONL）</translation>
    </message>
    <message>
        <source>JSON lines (*.jsonl *.json);;All files (*)</source>
        <translation>JSON Lines 文件 (*.jsonl *.json);;所有文件 (*)</translation>
    </message>
    <message>
        <source>File:</source>
        <translation>文件：</translation>
    </message>
    <message>
        <source>Kind:</source>
        <translation>类型：</translation>
    </message>
    <message>
        <source>Batch size:</source>
        <translation>批大小：</translation>
    </message>
    <message>
        <source>p %1 → %2</source>
        <translation>p %1 → %2</translation>
    </message>
    <message>
        <source>λ cos %1 → %2</source>
        <translation>λ cos %1 → %2</translation>
    </message>
    <message>
        <source>Quantization settings</source>
        <translation>量化设置</translation>
    </message>
    <message>
        <source>MDQFO preview failed: %1</source>
        <translation>MDQFO 预览失败：%1</translation>
    </message>
    <message>
        <source>Running: MDQFO of %1</source>
        <translation>运行中：%1 的 MDQFO</translation>
    </message>
    <message>
        <source>%1 cancelled; the session is unchanged</source>
        <translation>%1 已取消；会话未更改</translation>
    </message>
    <message>
        <source>%1 failed</source>
        <translation>%1 失败</translation>
    </message>
    <message>
        <source>Open a session (.mqs) or a model folder to start.</source>
        <translation>打开会话（.mqs）或模型文件夹以开始。</translation>
    </message>
    <message>
        <source>Tuning</source>
        <translation>调优</translation>
    </message>
    <message>
        <source>Layer Errors</source>
        <translation>层误差</translation>
    </message>
    <message>
        <source>Jobs</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Open &amp;Model Folder...</source>
        <translation>打开模型文件夹(&amp;M)...</translation>
    </message>
    <message>
        <source>Open E&amp;xample Session</source>
        <translation>打开示例会话(&amp;X)</translation>
    </message>
    <message>
        <source>&amp;Save Session</source>
        <translation>保存会话(&amp;S)</translation>
    </message>
    <message>
        <source>Save Session &amp;As...</source>
        <translation>会话另存为(&amp;A)...</translation>
    </message>
    <message>
        <source>&amp;Study</source>
        <translation>研究(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Calibrate...</source>
        <translation>校准(&amp;C)...</translation>
    </message>
    <message>
        <source>&amp;Quantize</source>
        <translation>量化(&amp;Q)</translation>
    </message>
    <message>
        <source>Build the plan with the tuning panel&apos;s settings</source>
        <translation>使用调优面板的设置生成方案</translation>
    </message>
    <message>
        <source>&amp;Evaluate...</source>
        <translation>评估(&amp;E)...</translation>
    </message>
    <message>
        <source>Cancel &amp;Job</source>
        <translation>取消任务(&amp;J)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>System Default</source>
        <translation>系统默认</translation>
    </message>
    <message>
        <source>The language changes at the next start of the workbench.</source>
        <translation>语言将在下次启动工作台时更改。</translation>
    </message>
    <message>
        <source>Wait for the running job or cancel it first.</source>
        <translation>请等待正在运行的任务完成，或先将其取消。</translation>
    </message>
    <message>
        <source>Cannot save session</source>
        <translation>无法保存会话</translation>
    </message>
    <message>
        <source>Could not save %1</source>
        <translation>无法保存 %1</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已保存 %1</translation>
    </message>
    <message>
        <source>Save Session</source>
        <translation>保存会话</translation>
    </message>
    <message>
        <source>MorphoQuant sessions (*.mqs)</source>
        <translation>MorphoQuant 会话 (*.mqs)</translation>
    </message>
    <message>
        <source>untitled</source>
        <translation>未命名</translation>
    </message>
    <message>
        <source>%1%2 — MorphoQuant Workbench</source>
        <translation>%1%2 — MorphoQuant 工作台</translation>
    </message>
    <message>
        <source>Open a session or a model folder.</source>
        <translation>请打开会话或模型文件夹。</translation>
    </message>
    <message>
        <source>No calibration statistics: Study → Calibrate first.</source>
        <translation>没有校准统计：请先执行“研究 → 校准”。</translation>
    </message>
    <message>
        <source>No plan yet: Quantize builds one with these settings.</source>
        <translation>尚无方案：点击“量化”将按这些设置生成方案。</translation>
    </message>
    <message>
        <source>Bits, formats, method or rho differ from the plan&apos;s: Quantize to apply them.</source>
        <translation>位数、格式、方法或 rho 与方案中的不同：请量化以应用。</translation>
    </message>
    <message numerus="yes">
        <source>MDQFO previewed on %n input group(s) only: Quantize to apply it to every layer.</source>
        <translation>
            <numerusform>MDQFO 仅在 %n 个输入组上预览：请量化以将其应用到所有层。</numerusform>
        </translation>
    </message>
    <message>
        <source>The plan matches these settings.</source>
        <translation>方案与这些设置一致。</translation>
    </message>
    <message>
        <source>MDQFO preview waits for the running job: Quantize afterwards to apply.</source>
        <translation>MDQFO 预览正在等待运行中的任务：完成后请量化以应用。</translation>
    </message>
    <message>
        <source>The MDQFO preview needs the calibration inputs of a quantization run in this window: Quantize once.</source>
        <translation>MDQFO 预览需要在此窗口中运行量化时得到的校准输入：请先量化一次。</translation>
    </message>
    <message>
        <source>Previewing MDQFO on layer %1...</source>
        <translation>正在第 %1 层上预览 MDQFO...</translation>
    </message>
    <message numerus="yes">
        <source>MDQFO preview of %n input group(s) in %1 ms</source>
        <translation>
            <numerusform>已预览 %n 个输入组的 MDQFO，用时 %1 ms</numerusform>
        </translation>
    </message>
    <message>
        <source>Open a session or a model folder first.</source>
        <translation>请先打开会话或模型文件夹。</translation>
    </message>
    <message>
        <source>%1 is running: wait for it or cancel it first.</source>
        <translation>%1 正在运行：请等待其完成或先将其取消。</translation>
    </message>
    <message>
        <source>Open model %1</source>
        <translation>打开模型 %1</translation>
    </message>
    <message>
        <source>%1 Linear modules in %2 input groups%3</source>
        <translation>%1 个 Linear 模块，分属 %2 个输入组%3</translation>
    </message>
    <message>
        <source> (same model: statistics kept)</source>
        <translation>（同一模型：已保留统计）</translation>
    </message>
    <message>
        <source>Model loaded: Study → Calibrate collects its statistics.</source>
        <translation>模型已加载：“研究 → 校准”可收集其统计。</translation>
    </message>
    <message>
        <source>Open a model folder first.</source>
        <translation>请先打开模型文件夹。</translation>
    </message>
    <message>
        <source>Calibrate on %1</source>
        <translation>在 %1 上校准</translation>
    </message>
    <message>
        <source>%1 sequences, %2 tokens</source>
        <translation>%1 个序列，%2 个 token</translation>
    </message>
    <message>
        <source>Calibrate first: the plan is built from the calibration statistics.</source>
        <translation>请先校准：方案基于校准统计生成。</translation>
    </message>
    <message>
        <source>Quantize %1</source>
        <translation>量化 %1</translation>
    </message>
    <message>
        <source>worst module SQNR %1 dB</source>
        <translation>最差模块 SQNR %1 dB</translation>
    </message>
    <message>
        <source>plan built</source>
        <translation>方案已生成</translation>
    </message>
    <message>
        <source>Quantize first: evaluation compares the quantized model with full precision.</source>
        <translation>请先量化：评估会将量化模型与全精度模型进行比较。</translation>
    </message>
    <message>
        <source>Evaluate on %1</source>
        <translation>在 %1 上评估</translation>
    </message>
    <message>
        <source>perplexity %1</source>
        <translation>困惑度 %1</translation>
    </message>
    <message>
        <source>Quantize first: there is no plan to export.</source>
        <translation>请先量化：没有可导出的方案。</translation>
    </message>
    <message>
        <source>Export to %1</source>
        <translation>导出到 %1</translation>
    </message>
    <message>
        <source>%1 tensors, %2 MB</source>
        <translation>%1 个张量，%2 MB</translation>
    </message>
    <message>
        <source>Open Model Folder</source>
        <translation>打开模型文件夹</translation>
    </message>
    <message>
        <source>Calibrate</source>
        <translation>校准</translation>
    </message>
    <message>
        <source>Evaluate</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>Also evaluate the full-precision model</source>
        <translation>同时评估全精度模型</translation>
    </message>
    <message>
        <source>Example session</source>
        <translation>示例会话</translation>
    </message>
    <message>
        <source>The example session is built with the workbench when the stories260K model is found (../shared/models/stories260K); this build has none.</source>
        <translation>示例会话在构建工作台时生成，前提是找到 stories260K 模型（../shared/models/stories260K）；此构建中没有示例会话。</translation>
    </message>
    <message>
        <source>&amp;Reset Layout</source>
        <translation>重置布局(&amp;R)</translation>
    </message>
    <message>
        <source>The views are back in their first arrangement.</source>
        <translation>视图已恢复为最初的布局。</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <translation>未保存的更改</translation>
    </message>
    <message>
        <source>The session has changes that are not saved. Save them?</source>
        <translation>会话有未保存的更改。是否保存？</translation>
    </message>
    <message>
        <source>Export Quanti&amp;zed Model...</source>
        <translation>导出量化模型(&amp;Z)...</translation>
    </message>
    <message>
        <source>MPI &amp;Launcher...</source>
        <translation>MPI 启动器(&amp;L)...</translation>
    </message>
    <message>
        <source>Run Calibrate and Quantize as MPI jobs through a launcher command (mpirun, srun)</source>
        <translation>通过启动器命令（mpirun、srun）以 MPI 作业运行校准和量化</translation>
    </message>
    <message>
        <source>Use the &amp;GPU Kernels (CUDA)</source>
        <translation>使用 GPU 内核 (CUDA)(&amp;G)</translation>
    </message>
    <message>
        <source>Run the statistics pass and MDQFO&apos;s grid scoring on the GPU (README &quot;GPU kernels&quot;)</source>
        <translation>在 GPU 上运行统计收集和 MDQFO 的网格评分（README“GPU kernels”）</translation>
    </message>
    <message>
        <source>Statistics and MDQFO&apos;s grid scoring run on the GPU.</source>
        <translation>统计和 MDQFO 的网格评分在 GPU 上运行。</translation>
    </message>
    <message>
        <source>Everything runs on the CPU.</source>
        <translation>全部在 CPU 上运行。</translation>
    </message>
    <message>
        <source>GPU Kernels</source>
        <translation>GPU 内核</translation>
    </message>
    <message>
        <source>Calibrate on %1 (MPI)</source>
        <translation>在 %1 上校准（MPI）</translation>
    </message>
    <message>
        <source>Quantize %1 (MPI)</source>
        <translation>量化 %1（MPI）</translation>
    </message>
    <message>
        <source>MPI Launcher</source>
        <translation>MPI 启动器</translation>
    </message>
    <message>
        <source>Run Calibrate and Quantize through this command, e.g. &lt;tt&gt;mpirun -n 4 --hostfile hosts&lt;/tt&gt; or &lt;tt&gt;srun -N 2 --ntasks-per-node 2 --mpi=pmix&lt;/tt&gt;; morphoquant-cli and its arguments follow it. Empty: jobs run in this process.</source>
        <translation>通过此命令运行校准和量化，例如 &lt;tt&gt;mpirun -n 4 --hostfile hosts&lt;/tt&gt; 或 &lt;tt&gt;srun -N 2 --ntasks-per-node 2 --mpi=pmix&lt;/tt&gt;；其后接 morphoquant-cli 及其参数。留空：作业在本进程内运行。</translation>
    </message>
    <message>
        <source>Jobs run in this process.</source>
        <translation>作业在本进程内运行。</translation>
    </message>
    <message>
        <source>Calibrate and Quantize run through: %1</source>
        <translation>校准和量化通过以下命令运行：%1</translation>
    </message>
</context>
<context>
    <name>mq::ui::MaskView</name>
    <message>
        <source>DABC mask of %1: %2 of %3 channels compensated</source>
        <translation>%1 的 DABC 掩码：%3 个通道中补偿 %2 个</translation>
    </message>
    <message>
        <source>DABC mask: no input group selected</source>
        <translation>DABC 掩码：未选择输入组</translation>
    </message>
    <message>
        <source>DABC mask of %1: no plan yet (quantize first)</source>
        <translation>%1 的 DABC 掩码：尚无计划（请先量化）</translation>
    </message>
    <message>
        <source>input channel</source>
        <translation>输入通道</translation>
    </message>
    <message>
        <source>D_c</source>
        <translation>D_c</translation>
    </message>
    <message>
        <source>kept (4-bit)</source>
        <translation>保留（4 位）</translation>
    </message>
    <message>
        <source>masked (DABC)</source>
        <translation>掩码（DABC）</translation>
    </message>
    <message>
        <source>edited by hand</source>
        <translation>手动编辑</translation>
    </message>
    <message>
        <source>Click a channel to mask or unmask it by hand (Edit &gt; Undo reverts)</source>
        <translation>点击通道可手动掩码或取消掩码（编辑 &gt; 撤销可还原）</translation>
    </message>
    <message>
        <source>τ local = %1</source>
        <translation>τ local = %1</translation>
    </message>
    <message>
        <source>τ global = %1</source>
        <translation>τ global = %1</translation>
    </message>
</context>
<context>
    <name>mq::ui::Modality</name>
    <message>
        <source>pooled</source>
        <translation>合并</translation>
    </message>
    <message>
        <source>text</source>
        <translation>文本</translation>
    </message>
    <message>
        <source>image</source>
        <translation>图像</translation>
    </message>
    <message>
        <source>video</source>
        <translation>视频</translation>
    </message>
    <message>
        <source>audio</source>
        <translation>音频</translation>
    </message>
    <message>
        <source>full precision</source>
        <translation>全精度</translation>
    </message>
</context>
<context>
    <name>mq::ui::OutlierView</name>
    <message>
        <source>per-channel max|x|</source>
        <translation>每通道 max|x|</translation>
    </message>
    <message>
        <source>channels</source>
        <translation>通道数</translation>
    </message>
    <message>
        <source>%1 (%2 tokens)</source>
        <translation>%1（%2 个 token）</translation>
    </message>
    <message>
        <source>α₀[%1]</source>
        <translation>α₀[%1]</translation>
    </message>
    <message>
        <source>α[%1]</source>
        <translation>α[%1]</translation>
    </message>
    <message>
        <source>min %1</source>
        <translation>最小 %1</translation>
    </message>
    <message>
        <source>median %1</source>
        <translation>中位 %1</translation>
    </message>
    <message>
        <source>max %1</source>
        <translation>最大 %1</translation>
    </message>
</context>
<context>
    <name>mq::ui::PlotExport</name>
    <message>
        <source>Export Plot</source>
        <translation>导出图表</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>导出失败</translation>
    </message>
    <message>
        <source>Export Plot...</source>
        <translation>导出图表...</translation>
    </message>
    <message>
        <source>Reset View</source>
        <translation>重置视图</translation>
    </message>
    <message>
        <source>Plot exported by MorphoQuant Workbench %1</source>
        <translation>由 MorphoQuant 工作台 %1 导出的图表</translation>
    </message>
    <message>
        <source>PNG image (*.png)</source>
        <translation>PNG 图像 (*.png)</translation>
    </message>
    <message>
        <source>SVG image (*.svg)</source>
        <translation>SVG 图像 (*.svg)</translation>
    </message>
    <message>
        <source>PDF document (*.pdf)</source>
        <translation>PDF 文档 (*.pdf)</translation>
    </message>
    <message>
        <source>Could not write %1 (PNG, SVG and PDF are supported).</source>
        <translation>无法写入 %1（支持 PNG、SVG 和 PDF）。</translation>
    </message>
</context>
<context>
    <name>mq::ui::SessionModel</name>
    <message>
        <source>Out of date: measured under an earlier plan (the masks, bounds or settings changed since). Study → Quantize measures it again.</source>
        <translation>已过期：在较早的方案下测得（此后掩码、边界或设置已更改）。“研究 → 量化”会重新测量。</translation>
    </message>
    <message>
        <source>%1
input group %2</source>
        <translation>%1
输入组 %2</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message>
        <source>Layer %1</source>
        <translation>第 %1 层</translation>
    </message>
    <message numerus="yes">
        <source>%n module(s)</source>
        <translation>
            <numerusform>%n 个模块</numerusform>
        </translation>
    </message>
    <message>
        <source>Module</source>
        <translation>模块</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>In → Out</source>
        <translation>输入 → 输出</translation>
    </message>
    <message>
        <source>Input group</source>
        <translation>输入组</translation>
    </message>
    <message>
        <source>Max D_c</source>
        <translation>最大 D_c</translation>
    </message>
    <message>
        <source>Masked</source>
        <translation>掩码数</translation>
    </message>
    <message>
        <source>Final loss</source>
        <translation>最终损失</translation>
    </message>
    <message>
        <source>The highest max D_c (%1 tokens) of this layer&apos;s input groups</source>
        <translation>此层各输入组中最高的最大 D_c（%1 token）</translation>
    </message>
    <message>
        <source>The lowest SQNR of this layer&apos;s modules</source>
        <translation>此层各模块中最低的 SQNR</translation>
    </message>
    <message>
        <source>paper form |max - min| / log(sum|x| + 1e-5)</source>
        <translation>论文形式 |max - min| / log(sum|x| + 1e-5)</translation>
    </message>
    <message>
        <source>code form |max - min| / log(1 + mean|x| + 1e-5)</source>
        <translation>代码形式 |max - min| / log(1 + mean|x| + 1e-5)</translation>
    </message>
    <message>
        <source>Highest dispersion score D_c over the input group&apos;s channels, all tokens pooled (%1)</source>
        <translation>输入组各通道中最高的离散度分数 D_c，合并所有 token（%1）</translation>
    </message>
    <message>
        <source>Channels compensated by DABC</source>
        <translation>由 DABC 补偿的通道</translation>
    </message>
    <message>
        <source>Last MDQFO loss (L_p + lambda_cos L_cos) of the input group</source>
        <translation>输入组最后一次的 MDQFO 损失（L_p + lambda_cos L_cos）</translation>
    </message>
    <message>
        <source>Output SQNR of the quantized module in dB over all calibration tokens, 10 log10(sum ||y||² / sum ||y - y_q||²); lower is worse. –: not measured for the current plan</source>
        <translation>量化模块在所有校准 token 上的输出 SQNR（dB），10 log10(sum ||y||² / sum ||y - y_q||²)；越低越差。–：当前方案未测量</translation>
    </message>
    <message>
        <source>Highest dispersion score D_c over the input group&apos;s channels, %1 tokens only (%2). –: no %1 token reached this input</source>
        <translation>输入组各通道中最高的离散度分数 D_c，仅统计 %1 token（%2）。–：没有 %1 token 到达此输入</translation>
    </message>
    <message>
        <source>Output SQNR of the quantized module in dB over %1 tokens only; lower is worse. –: not measured, or no %1 token reached this module</source>
        <translation>量化模块仅在 %1 token 上的输出 SQNR（dB）；越低越差。–：未测量，或没有 %1 token 到达此模块</translation>
    </message>
    <message>
        <source>D_c text</source>
        <translation>D_c 文本</translation>
    </message>
    <message>
        <source>D_c image</source>
        <translation>D_c 图像</translation>
    </message>
    <message>
        <source>D_c video</source>
        <translation>D_c 视频</translation>
    </message>
    <message>
        <source>D_c audio</source>
        <translation>D_c 音频</translation>
    </message>
    <message>
        <source>SQNR dB</source>
        <translation>SQNR dB</translation>
    </message>
    <message>
        <source>SQNR text</source>
        <translation>SQNR 文本</translation>
    </message>
    <message>
        <source>SQNR image</source>
        <translation>SQNR 图像</translation>
    </message>
    <message>
        <source>SQNR video</source>
        <translation>SQNR 视频</translation>
    </message>
    <message>
        <source>SQNR audio</source>
        <translation>SQNR 音频</translation>
    </message>
    <message>
        <source>No %1 token reached input group %2</source>
        <translation>没有 %1 token 到达输入组 %2</translation>
    </message>
    <message>
        <source>Highest D_c of input group %1 over %2 %3 tokens</source>
        <translation>输入组 %1 在 %2 个 %3 token 上的最高 D_c</translation>
    </message>
    <message>
        <source>No output error measured for %1</source>
        <translation>未测量 %1 的输出误差</translation>
    </message>
    <message>
        <source>No %1 token in the output error of %2</source>
        <translation>%2 的输出误差中没有 %1 token</translation>
    </message>
    <message>
        <source>SQNR %1 dB, mean cosine %2 over %3 %4 tokens</source>
        <translation>SQNR %1 dB，在 %3 个 token（%4）上的平均余弦 %2</translation>
    </message>
    <message>
        <source>SQNR %1 dB, mean cosine %2 over all %3 tokens</source>
        <translation>SQNR %1 dB，平均余弦 %2，基于全部 %3 个 token</translation>
    </message>
</context>
<context>
    <name>mq::ui::ThresholdPanel</name>
    <message>
        <source>Per token (dynamic)</source>
        <translation>逐词元（动态）</translation>
    </message>
    <message>
        <source>Per tensor (static, calibration range)</source>
        <translation>逐张量（静态，校准范围）</translation>
    </message>
    <message>
        <source>Per tensor (dynamic, each forward)</source>
        <translation>逐张量（动态，每次前向）</translation>
    </message>
    <message>
        <source>How many scales RTN's integer activations get: one per token, or one per input group (from the calibration's range, or from each forward's)</source>
        <translation>RTN 整数激活的缩放数量：每个词元一个，或每个输入组一个（来自校准范围或每次前向的范围）</translation>
    </message>
    <message>
        <source>whole token</source>
        <translation>整个词元</translation>
    </message>
    <message>
        <source>Per-token integer activations: a scale per group of this many channels of each token (0: one per token); each scale costs 16 bits</source>
        <translation>逐词元整数激活：每个词元每组这么多通道一个缩放（0：每个词元一个）；每个缩放占 16 位</translation>
    </message>
    <message>
        <source>Activation scales:</source>
        <translation>激活缩放：</translation>
    </message>
    <message>
        <source>Activation group:</source>
        <translation>激活分组：</translation>
    </message>
    <message>
        <source>Simulated (weights and activations fake-quantized apart)</source>
        <translation>模拟（权重与激活分别伪量化）</translation>
    </message>
    <message>
        <source>Deployable (activation scales folded into the weights)</source>
        <translation>可部署（激活尺度折叠进权重）</translation>
    </message>
    <message>
        <source>Deployable: each static per-channel activation scale is folded into the weight before it is rounded, so an integer GEMM can run the plan (MorphoQuant with quantized activations and weights, without GPTQ)</source>
        <translation>可部署：每个静态逐通道激活尺度在舍入前折叠进权重，使整数 GEMM 可以运行该计划（激活与权重均量化的 MorphoQuant，不含 GPTQ）</translation>
    </message>
    <message>
        <source>Mode:</source>
        <translation>模式：</translation>
    </message>
    <message>
        <source>τ = μ + k·σ of the dispersion scores D&lt;sub&gt;c&lt;/sub&gt;</source>
        <translation>τ = μ + k·σ，基于离散度分数 D&lt;sub&gt;c&lt;/sub&gt;</translation>
    </message>
    <message>
        <source>Local (this group&apos;s channels)</source>
        <translation>局部（本组通道）</translation>
    </message>
    <message>
        <source>Global (all groups&apos; channels)</source>
        <translation>全局（所有组的通道）</translation>
    </message>
    <message>
        <source>Code: |max-min| / log(1 + mean|x|)</source>
        <translation>代码：|max-min| / log(1 + mean|x|)</translation>
    </message>
    <message>
        <source>Paper: |max-min| / log(||x||_1)</source>
        <translation>论文：|max-min| / log(||x||_1)</translation>
    </message>
    <message>
        <source>Pooled over modalities</source>
        <translation>所有模态合并</translation>
    </message>
    <message>
        <source>Outlier in any modality</source>
        <translation>任一模态中的离群值</translation>
    </message>
    <message>
        <source>none (pure Eq. 6)</source>
        <translation>无（纯式 6）</translation>
    </message>
    <message>
        <source>Module kinds whose input is masked entirely, comma separated (e.g. down_proj)</source>
        <translation>输入被整体掩码的模块类型，以逗号分隔（例如 down_proj）</translation>
    </message>
    <message>
        <source>k:</source>
        <translation>k：</translation>
    </message>
    <message>
        <source>Thresholds:</source>
        <translation>阈值：</translation>
    </message>
    <message>
        <source>Score:</source>
        <translation>分数：</translation>
    </message>
    <message>
        <source>Statistics:</source>
        <translation>统计：</translation>
    </message>
    <message>
        <source>Force kinds:</source>
        <translation>强制类型：</translation>
    </message>
    <message>
        <source>Compensate outlier channels (DABC)</source>
        <translation>补偿离群通道（DABC）</translation>
    </message>
    <message>
        <source>Compensate only elements with |x| &amp;gt; ρ·α&lt;sub&gt;c&lt;/sub&gt; (0: every element of a masked channel); takes effect at the next quantization</source>
        <translation>仅补偿 |x| &amp;gt; ρ·α&lt;sub&gt;c&lt;/sub&gt; 的元素（0：掩码通道的所有元素）；在下次量化时生效</translation>
    </message>
    <message>
        <source>Optimize clipping bounds (MDQFO)</source>
        <translation>优化裁剪边界（MDQFO）</translation>
    </message>
    <message>
        <source>Grid search over ratios</source>
        <translation>比例网格搜索</translation>
    </message>
    <message>
        <source>Adam on α</source>
        <translation>对 α 使用 Adam</translation>
    </message>
    <message>
        <source>Exponent of the L_p morphology term (paper 0.5; authors&apos; configs 2, 3)</source>
        <translation>L_p 形态项的指数（论文为 0.5；作者配置为 2、3）</translation>
    </message>
    <message>
        <source>Weight of the cosine term L_cos</source>
        <translation>余弦项 L_cos 的权重</translation>
    </message>
    <message>
        <source>MorphoQuant (DABC + MDQFO, static per-channel activations)</source>
        <translation>MorphoQuant（DABC + MDQFO，静态逐通道激活）</translation>
    </message>
    <message>
        <source>RTN (per-token dynamic activations)</source>
        <translation>RTN（逐 token 动态激活）</translation>
    </message>
    <message>
        <source>Integer, symmetric</source>
        <translation>整数，对称</translation>
    </message>
    <message>
        <source>NF4</source>
        <translation>NF4</translation>
    </message>
    <message>
        <source>Unquantized (W16)</source>
        <translation>不量化（W16）</translation>
    </message>
    <message>
        <source>per output channel</source>
        <translation>逐输出通道</translation>
    </message>
    <message>
        <source>Weight scale group size along the input dimension (0: one scale per output channel)</source>
        <translation>沿输入维度的权重缩放分组大小（0：每个输出通道一个缩放因子）</translation>
    </message>
    <message>
        <source>A16 (unquantized)</source>
        <translation>A16（不量化）</translation>
    </message>
    <message>
        <source>Quantize</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Build the plan with these settings for every layer (Study → Quantize)</source>
        <translation>使用这些设置为所有层生成方案（研究 → 量化）</translation>
    </message>
    <message>
        <source>DABC</source>
        <translation>DABC</translation>
    </message>
    <message>
        <source>ρ:</source>
        <translation>ρ：</translation>
    </message>
    <message>
        <source>MDQFO</source>
        <translation>MDQFO</translation>
    </message>
    <message>
        <source>Solver:</source>
        <translation>求解器：</translation>
    </message>
    <message>
        <source>p:</source>
        <translation>p：</translation>
    </message>
    <message>
        <source>λ&lt;sub&gt;cos&lt;/sub&gt;:</source>
        <translation>λ&lt;sub&gt;cos&lt;/sub&gt;：</translation>
    </message>
    <message>
        <source>Bits and formats</source>
        <translation>位数与格式</translation>
    </message>
    <message>
        <source>Method:</source>
        <translation>方法：</translation>
    </message>
    <message>
        <source>Weights:</source>
        <translation>权重：</translation>
    </message>
    <message>
        <source>Weight bits:</source>
        <translation>权重位数：</translation>
    </message>
    <message>
        <source>Weight group:</source>
        <translation>权重分组：</translation>
    </message>
    <message>
        <source>Activations:</source>
        <translation>激活：</translation>
    </message>
    <message>
        <source>No plan yet.</source>
        <translation>尚无方案。</translation>
    </message>
    <message>
        <source>NVFP4 (16-blocks, E4M3 scales)</source>
        <translation>NVFP4（16 元素块，E4M3 缩放）</translation>
    </message>
    <message>
        <source>MXFP4 (32-blocks, power-of-two scales)</source>
        <translation>MXFP4（32 元素块，2 的幂缩放）</translation>
    </message>
    <message>
        <source>HiFloat4 (64-units, micro-exponents)</source>
        <translation>HiFloat4（64 元素单元，微指数）</translation>
    </message>
    <message>
        <source>Integer</source>
        <translation>整数</translation>
    </message>
    <message>
        <source>NVFP4</source>
        <translation>NVFP4</translation>
    </message>
    <message>
        <source>MXFP4</source>
        <translation>MXFP4</translation>
    </message>
    <message>
        <source>HiFloat8 (A8)</source>
        <translation>HiFloat8（A8）</translation>
    </message>
    <message>
        <source>HiFloat4</source>
        <translation>HiFloat4</translation>
    </message>
    <message>
        <source>Per-token activation format (RTN only); the block formats are 4-bit, HiFloat8 8-bit</source>
        <translation>逐 token 激活格式（仅 RTN）；块格式为 4 位，HiFloat8 为 8 位</translation>
    </message>
    <message>
        <source>Weights by GPTQ</source>
        <translation>用 GPTQ 量化权重</translation>
    </message>
    <message>
        <source>Round each Linear&apos;s weights column by column, spreading the error through the inverse Hessian of its calibration inputs</source>
        <translation>逐列舍入每个 Linear 的权重，并通过其校准输入的逆 Hessian 将误差分摊到其余列</translation>
    </message>
    <message>
        <source>Quantize the encoders too</source>
        <translation>同时量化编码器</translation>
    </message>
    <message>
        <source>Qwen2.5-Omni: the vision and audio encoders&apos; Linears get these activations (DABC and MDQFO on their own statistics) and weights rounded to nearest; simulated only, the exports write the decoder. Needs a manifest calibration with images, audio or video.</source>
        <translation>Qwen2.5-Omni：视觉和音频编码器的 Linear 也采用这些激活设置（基于各自统计量的 DABC 和 MDQFO），权重按最近舍入量化；仅为模拟，导出只写出解码器。需要用含图像、音频或视频的清单进行校准。</translation>
    </message>
    <message>
        <source>Aim at the full-precision outputs</source>
        <translation>以全精度输出为目标</translation>
    </message>
    <message>
        <source>GPTQ towards the full-precision model&apos;s outputs from the quantized model&apos;s inputs (GPTAQ-style)</source>
        <translation>以量化模型的输入逼近全精度模型输出的 GPTQ（GPTAQ 方式）</translation>
    </message>
    <message>
        <source>Activation format:</source>
        <translation>激活格式：</translation>
    </message>
    <message>
        <source>Recipe:</source>
        <translation>方案：</translation>
    </message>
    <message>
        <source>full precision</source>
        <translation>全精度</translation>
    </message>
</context>
<context>
    <name>mq::ui::Cost</name>
    <message>
        <source>Cost: activations %1 bits per element%2 (%3 per multiply-add); DABC %4 of %5 channels, +%6% multiply-adds; weights %7 bits; %8</source>
        <translation>开销：激活每元素 %1 位%2（每次乘加 %3 位）；DABC 补偿 %5 个通道中的 %4 个，乘加 +%6%；权重 %7 位；%8</translation>
    </message>
    <message>
        <source> (the decoder&apos;s; the encoders are quantized too)</source>
        <translation>（解码器的数值；编码器也已量化）</translation>
    </message>
    <message>
        <source> at most</source>
        <translation>（上限）</translation>
    </message>
    <message>
        <source>deployable</source>
        <translation>可部署</translation>
    </message>
    <message>
        <source>simulated</source>
        <translation>模拟</translation>
    </message>
</context>
<context>
    <name>mq::ui::WelcomePage</name>
    <message>
        <source>MorphoQuant Workbench</source>
        <translation>MorphoQuant 工作台</translation>
    </message>
    <message>
        <source>Modality-aware 4-bit post-training quantization: look at each input's outliers, tune DABC and MDQFO, compare what each figure costs, export.</source>
        <translation>模态感知的 4 位训练后量化：查看每个输入的离群值，调整 DABC 和 MDQFO，比较每个数字的代价，然后导出。</translation>
    </message>
    <message>
        <source>Open the Example Session</source>
        <translation>打开示例会话</translation>
    </message>
    <message>
        <source>stories260K, calibrated and quantized with MorphoQuant W4A4 when the workbench was built</source>
        <translation>stories260K，在构建工作台时已用 MorphoQuant W4A4 校准并量化</translation>
    </message>
    <message>
        <source>Open a Session...</source>
        <translation>打开会话...</translation>
    </message>
    <message>
        <source>Open a Model Folder...</source>
        <translation>打开模型文件夹...</translation>
    </message>
    <message>
        <source>Guide and Glossary</source>
        <translation>指南和术语表</translation>
    </message>
    <message>
        <source>1. Calibrate</source>
        <translation>1. 校准</translation>
    </message>
    <message>
        <source>2. Quantize</source>
        <translation>2. 量化</translation>
    </message>
    <message>
        <source>3. Evaluate</source>
        <translation>3. 评估</translation>
    </message>
    <message>
        <source>4. Export</source>
        <translation>4. 导出</translation>
    </message>
    <message>
        <source>Study → Calibrate: run calibration data (token ids or an Omni manifest) through the model and gather each Linear input's per-channel statistics, per modality.</source>
        <translation>研究 → 校准：将校准数据（词元 ID 或 Omni 清单）送入模型，按模态收集每个 Linear 输入的逐通道统计。</translation>
    </message>
    <message>
        <source>Tune the DABC threshold and MDQFO on the left, then Study → Quantize: the plan, each layer's output error and what the plan costs in effective bits.</source>
        <translation>在左侧调整 DABC 阈值和 MDQFO，然后选择 研究 → 量化：得到方案、每层的输出误差以及方案以有效位数计的代价。</translation>
    </message>
    <message>
        <source>Study → Evaluate: perplexity and KL divergence against full precision on an evaluation file.</source>
        <translation>研究 → 评估：在评估文件上相对全精度的困惑度和 KL 散度。</translation>
    </message>
    <message>
        <source>File → Export Quantized Model: a Hugging Face folder this tool or a serving stack loads (compressed-tensors, NVFP4, or this tool's formats).</source>
        <translation>文件 → 导出量化模型：本工具或推理服务可加载的 Hugging Face 文件夹（compressed-tensors、NVFP4 或本工具的格式）。</translation>
    </message>
    <message>
        <source>Recent sessions</source>
        <translation>最近的会话</translation>
    </message>
    <message>
        <source>A study in four steps</source>
        <translation>四步完成一次研究</translation>
    </message>
</context>
<context>
    <name>mq::ui::GuideDialog</name>
    <message>
        <source>A study, step by step</source>
        <translation>研究，逐步进行</translation>
    </message>
    <message>
        <source>&lt;b&gt;Calibrate&lt;/b&gt; (Study → Calibrate): statistics of every Linear input, per channel and modality, from calibration data.</source>
        <translation>&lt;b&gt;校准&lt;/b&gt;（研究 → 校准）：根据校准数据，按通道和模态统计每个 Linear 输入。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Look&lt;/b&gt;: the heatmap shows D&lt;sub&gt;c&lt;/sub&gt; of every channel; the outlier view and the DABC mask show the selected input group.</source>
        <translation>&lt;b&gt;查看&lt;/b&gt;：热图显示每个通道的 D&lt;sub&gt;c&lt;/sub&gt;；离群值视图和 DABC 掩码显示所选输入组。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Tune&lt;/b&gt;: k moves the thresholds τ&lt;sub&gt;local&lt;/sub&gt; and τ&lt;sub&gt;global&lt;/sub&gt; at once; MDQFO's p and λ&lt;sub&gt;cos&lt;/sub&gt; preview on the current layer.</source>
        <translation>&lt;b&gt;调整&lt;/b&gt;：k 同时移动阈值 τ&lt;sub&gt;local&lt;/sub&gt; 和 τ&lt;sub&gt;global&lt;/sub&gt;；MDQFO 的 p 和 λ&lt;sub&gt;cos&lt;/sub&gt; 在当前层上预览。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Quantize&lt;/b&gt; (Study → Quantize): the plan for every layer, its layer errors and its cost in effective bits.</source>
        <translation>&lt;b&gt;量化&lt;/b&gt;（研究 → 量化）：每一层的方案、层误差及其以有效位数计的代价。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Evaluate&lt;/b&gt; and &lt;b&gt;export&lt;/b&gt;: perplexity and KL divergence, then a quantized Hugging Face folder.</source>
        <translation>&lt;b&gt;评估&lt;/b&gt;和&lt;b&gt;导出&lt;/b&gt;：困惑度和 KL 散度，然后是量化后的 Hugging Face 文件夹。</translation>
    </message>
    <message>
        <source>Figures measured under an earlier plan are drawn grey and marked out of date until the plan is quantized (or evaluated) again.</source>
        <translation>在较早方案下测得的数字以灰色显示并标记为已过期，直到再次量化（或评估）该方案。</translation>
    </message>
    <message>
        <source>Glossary</source>
        <translation>术语表</translation>
    </message>
    <message>
        <source>Dispersion score of channel c: |max − min| / log(1 + mean|x| + 10&lt;sup&gt;−5&lt;/sup&gt;) (the authors' code) or |max − min| / log(‖X&lt;sub&gt;c&lt;/sub&gt;‖&lt;sub&gt;1&lt;/sub&gt; + ε) (the paper, Eq. 5).</source>
        <translation>通道 c 的离散度分数：|max − min| / log(1 + mean|x| + 10&lt;sup&gt;−5&lt;/sup&gt;)（作者代码）或 |max − min| / log(‖X&lt;sub&gt;c&lt;/sub&gt;‖&lt;sub&gt;1&lt;/sub&gt; + ε)（论文式 5）。</translation>
    </message>
    <message>
        <source>Thresholds μ + k·σ of D&lt;sub&gt;c&lt;/sub&gt; over the group's channels and over all groups' channels; a channel above the active ones is an outlier.</source>
        <translation>D&lt;sub&gt;c&lt;/sub&gt; 在本组通道和所有组通道上的阈值 μ + k·σ；高于启用阈值的通道为离群通道。</translation>
    </message>
    <message>
        <source>Distribution-Aware Bias Compensation: the outlier channels (the mask) keep their quantization residual in 16 bits, an extra product over those channels only.</source>
        <translation>分布感知偏置补偿：离群通道（掩码）以 16 位保留其量化残差，仅在这些通道上多一次乘积。</translation>
    </message>
    <message>
        <source>Element threshold: only |x| &gt; ρ·α&lt;sub&gt;c&lt;/sub&gt; of a masked channel is compensated.</source>
        <translation>元素阈值：仅补偿掩码通道中 |x| &gt; ρ·α&lt;sub&gt;c&lt;/sub&gt; 的元素。</translation>
    </message>
    <message>
        <source>Clipping bound of channel c (its static scale is α&lt;sub&gt;c&lt;/sub&gt; / q&lt;sub&gt;max&lt;/sub&gt;); α&lt;sub&gt;0&lt;/sub&gt; = max|X&lt;sub&gt;c&lt;/sub&gt;| over the calibration data.</source>
        <translation>通道 c 的裁剪界（其静态缩放为 α&lt;sub&gt;c&lt;/sub&gt; / q&lt;sub&gt;max&lt;/sub&gt;）；α&lt;sub&gt;0&lt;/sub&gt; = 校准数据上的 max|X&lt;sub&gt;c&lt;/sub&gt;|。</translation>
    </message>
    <message>
        <source>Morphology-Directed Quantization Function Optimization: each α&lt;sub&gt;c&lt;/sub&gt; chosen to minimize L&lt;sub&gt;p&lt;/sub&gt; + λ&lt;sub&gt;cos&lt;/sub&gt;·L&lt;sub&gt;cos&lt;/sub&gt;.</source>
        <translation>形态导向的量化函数优化：选择每个 α&lt;sub&gt;c&lt;/sub&gt; 以最小化 L&lt;sub&gt;p&lt;/sub&gt; + λ&lt;sub&gt;cos&lt;/sub&gt;·L&lt;sub&gt;cos&lt;/sub&gt;。</translation>
    </message>
    <message>
        <source>mean |x − Q(x)|&lt;sup&gt;p&lt;/sup&gt;, and 1 − the mean cosine of each token with its quantized value.</source>
        <translation>mean |x − Q(x)|&lt;sup&gt;p&lt;/sup&gt;，以及 1 − 每个词元与其量化值的平均余弦。</translation>
    </message>
    <message>
        <source>10 log&lt;sub&gt;10&lt;/sub&gt;(Σ|y|&lt;sup&gt;2&lt;/sup&gt; / Σ|y − y&lt;sub&gt;q&lt;/sub&gt;|&lt;sup&gt;2&lt;/sup&gt;) of a Linear's output, quantized against full precision, in dB.</source>
        <translation>Linear 输出的 10 log&lt;sub&gt;10&lt;/sub&gt;(Σ|y|&lt;sup&gt;2&lt;/sup&gt; / Σ|y − y&lt;sub&gt;q&lt;/sub&gt;|&lt;sup&gt;2&lt;/sup&gt;)，量化相对全精度，单位 dB。</translation>
    </message>
    <message>
        <source>Mean KL(full precision ‖ quantized) of the next-token distributions, in nats per token.</source>
        <translation>下一词元分布的平均 KL(全精度 ‖ 量化)，单位为每词元奈特。</translation>
    </message>
    <message>
        <source>Effective bits</source>
        <translation>有效位数</translation>
    </message>
    <message>
        <source>Bits per activation element (and per multiply-add) with scales, zero points and compensated elements counted; bits per weight with scales.</source>
        <translation>每个激活元素（及每次乘加）的位数，计入缩放、零点和补偿元素；每个权重的位数计入缩放。</translation>
    </message>
    <message>
        <source>Input group</source>
        <translation>输入组</translation>
    </message>
    <message>
        <source>The Linears that read one input: q/k/v, o, gate/up, down of each layer.</source>
        <translation>读取同一输入的 Linear：每层的 q/k/v、o、gate/up、down。</translation>
    </message>
    <message>
        <source>Simulated, deployable</source>
        <translation>模拟、可部署</translation>
    </message>
    <message>
        <source>Simulated: weights and activations quantized separately, as the paper. Deployable: static activation scales folded into the weights, so an integer GEMM runs.</source>
        <translation>模拟：权重和激活分别量化，与论文相同。可部署：静态激活缩放折叠进权重，从而可运行整数 GEMM。</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>Heatmap: zoom / pan the channels</source>
        <translation>热图：缩放 / 平移通道</translation>
    </message>
    <message>
        <source>Wheel / drag</source>
        <translation>滚轮 / 拖动</translation>
    </message>
    <message>
        <source>MorphoQuant Workbench Guide</source>
        <translation>MorphoQuant 工作台指南</translation>
    </message>
</context>
<context>
    <name>mq::ui::SensitivityView</name>
    <message>
        <source>Lowest SQNR by layer and modality</source>
        <translation>按层和模态的最低 SQNR</translation>
    </message>
    <message>
        <source>Mean SQNR by layer and modality</source>
        <translation>按层和模态的平均 SQNR</translation>
    </message>
    <message>
        <source>Cell:</source>
        <translation>单元格：</translation>
    </message>
    <message>
        <source>lowest SQNR of the layer's modules</source>
        <translation>该层模块的最低 SQNR</translation>
    </message>
    <message>
        <source>mean SQNR of the layer's modules</source>
        <translation>该层模块的平均 SQNR</translation>
    </message>
    <message>
        <source>tokens</source>
        <translation>词元</translation>
    </message>
    <message>
        <source>layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>SQNR (dB)</source>
        <translation>SQNR (dB)</translation>
    </message>
    <message>
        <source>No layer errors yet: Study → Quantize measures them</source>
        <translation>尚无层误差：研究 → 量化会测量它们</translation>
    </message>
    <message>
        <source>Sensitivity by modality: no quantization plan yet</source>
        <translation>按模态的敏感度：尚无量化方案</translation>
    </message>
    <message>
        <source>Out of date: an earlier plan's (Study → Quantize)</source>
        <translation>已过期：较早方案的结果（研究 → 量化）</translation>
    </message>
</context>
<context>
    <name>mq::ui::CompareView</name>
    <message numerus="yes">
        <source>DABC masks differ in %n channel(s)</source>
        <translation>
            <numerusform>DABC 掩码在 %n 个通道上不同</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source> of %n input group(s) (marked in the heatmap)</source>
        <translation>
            <numerusform>（共 %n 个输入组，已在热图中标出）</numerusform>
        </translation>
    </message>
    <message>
        <source>Module</source>
        <translation>模块</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>SQNR A (dB)</source>
        <translation>SQNR A (dB)</translation>
    </message>
    <message>
        <source>SQNR B (dB)</source>
        <translation>SQNR B (dB)</translation>
    </message>
    <message>
        <source>Δ B − A (dB)</source>
        <translation>Δ B − A (dB)</translation>
    </message>
    <message>
        <source>Group</source>
        <translation>组</translation>
    </message>
    <message>
        <source>module (network order)</source>
        <translation>模块（网络顺序）</translation>
    </message>
    <message>
        <source>Δ SQNR, B − A (dB)</source>
        <translation>Δ SQNR，B − A (dB)</translation>
    </message>
    <message>
        <source>B better</source>
        <translation>B 更好</translation>
    </message>
    <message>
        <source>B worse</source>
        <translation>B 更差</translation>
    </message>
    <message>
        <source>%1 has %2 Linear modules, the open session %3: not the same model</source>
        <translation>%1 有 %2 个 Linear 模块，打开的会话有 %3 个：不是同一个模型</translation>
    </message>
    <message>
        <source>%1 has module %2 where the open session has %3: not the same model</source>
        <translation>%1 在打开的会话为 %3 的位置是模块 %2：不是同一个模型</translation>
    </message>
    <message>
        <source>no plan</source>
        <translation>无方案</translation>
    </message>
    <message>
        <source>: perplexity %1</source>
        <translation>：困惑度 %1</translation>
    </message>
    <message>
        <source>, KL %1</source>
        <translation>，KL %1</translation>
    </message>
    <message>
        <source>&lt;i&gt;(out of date)&lt;/i&gt;</source>
        <translation>&lt;i&gt;（已过期）&lt;/i&gt;</translation>
    </message>
    <message>
        <source>: not evaluated</source>
        <translation>：未评估</translation>
    </message>
    <message>
        <source>Compare the open plan with another: File → Compare With Session..., or Study → Keep Plan for Comparison before trying other settings.</source>
        <translation>将打开的方案与另一个方案比较：文件 → 与会话比较...，或在尝试其他设置之前选择 研究 → 保留方案用于比较。</translation>
    </message>
    <message>
        <source>Open a session first.</source>
        <translation>请先打开一个会话。</translation>
    </message>
    <message>
        <source>A (open)</source>
        <translation>A（已打开）</translation>
    </message>
    <message>
        <source>B (%1)</source>
        <translation>B（%1）</translation>
    </message>
</context>
</TS>
