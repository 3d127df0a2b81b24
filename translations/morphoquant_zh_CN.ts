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
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Select this input group (e.g. layers.1.o_in) in every view.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Session file (.mqs) or model folder to open.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mq::ui::DispersionHeatmapView</name>
    <message>
        <source>Dispersion score D_c:</source>
        <translation>离散度分数 D_c：</translation>
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
        <source>D_c (pooled)</source>
        <translation>D_c（合并）</translation>
    </message>
    <message>
        <source>group %1
channel %2
D_c = %3</source>
        <translation>组 %1
通道 %2
D_c = %3</translation>
    </message>
</context>
<context>
    <name>mq::ui::ExportDialog</name>
    <message>
        <source>Export Quantized Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>morphoquant-sim v1: Hugging Face folder, weights on the quantization grid, activation bounds and DABC masks as tensors</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reloaded by this engine (morphoquant-cli eval --model FOLDER) as the same simulated quantized model. Packed INT4 kernels are not written yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the folder to write</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Replace the folder if it exists</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plan: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This session has no quantization plan: quantize first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel Export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Format:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folder:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Wrote %1
%2, %3 tensors, %4 MB in %5
%6
DABC compensates %7 of %8 input channels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>
%1: perplexity %2 on %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export cancelled; nothing was written.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export Folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a folder to write.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Another job is running; wait for it or cancel it first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Exporting...</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mq::ui::JobPanel</name>
    <message>
        <source>loading the model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>calibration</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MDQFO</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>capturing inputs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>layer errors</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>evaluation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop the job; the session stays as it was before the job (Esc)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelling...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 finished in %2: %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 cancelled after %2; the session is unchanged</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>estimating...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No job running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Calibrate, quantize, evaluate and export from the Study menu.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mq::ui::LayerErrorModel</name>
    <message>
        <source>pooled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>video</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>audio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1, %2 tokens: SQNR %3 dB, cosine %4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mean cosine similarity of the full-precision and quantized outputs, per token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Signal to quantization noise ratio of the module&apos;s output: 10 log10(sum |y|^2 / sum |y - yq|^2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Module</source>
        <translation type="unfinished">模块</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kind</source>
        <translation type="unfinished">类型</translation>
    </message>
    <message>
        <source>cos %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SQNR %1 (dB)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mq::ui::LayerErrorView</name>
    <message>
        <source>No layer errors in this session: run Study → Quantize to measure them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No quantization plan yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n module(s); SQNR and cosine of each Linear&apos;s output with its full-precision input.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt;: perplexity %2 (NLL %3, %4 tokens)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>, %1% vs full precision</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mq::ui::LossCurveView</name>
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
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Qwen2.5-Omni manifest (JSONL with text, images, audio, video)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>JSON lines (*.jsonl *.json);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>File:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kind:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Batch size:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>p %1 → %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>lambda_cos %1 → %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quantization settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MDQFO preview failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Running: MDQFO of %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 cancelled; the session is unchanged</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open a session (.mqs) or a model folder to start.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tuning</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Layer Errors</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;Model Folder...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open E&amp;xample Session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Save Session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save Session &amp;As...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export &amp;Quantized Model...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Study</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Calibrate...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quantize</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Build the plan with the tuning panel&apos;s settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Evaluate...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel &amp;Job</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System Default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The language changes at the next start of the workbench.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Wait for the running job or cancel it first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot save session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not save %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save Session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MorphoQuant sessions (*.mqs)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>untitled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1%2 — MorphoQuant Workbench</source>
        <translation type="unfinished">%1 — MorphoQuant 工作台 {1%2 ?}</translation>
    </message>
    <message>
        <source>Open a session or a model folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No calibration statistics: Study → Calibrate first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No plan yet: Quantize builds one with these settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bits, formats, method or rho differ from the plan&apos;s: Quantize to apply them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>MDQFO previewed on %n input group(s) only: Quantize to apply it to every layer.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>The plan matches these settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MDQFO preview waits for the running job: Quantize afterwards to apply.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The MDQFO preview needs the calibration inputs of a quantization run in this window: Quantize once.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Previewing MDQFO on layer %1...</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>MDQFO preview of %n input group(s) in %1 ms</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Open a session or a model folder first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is running: wait for it or cancel it first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open model %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 Linear modules in %2 input groups%3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (same model: statistics kept)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model loaded: Study → Calibrate collects its statistics.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open a model folder first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Calibrate on %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 sequences, %2 tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Calibrate first: the plan is built from the calibration statistics.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quantize %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>worst module SQNR %1 dB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>plan built</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quantize first: evaluation compares the quantized model with full precision.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Evaluate on %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>perplexity %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quantize first: there is no plan to export.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 tensors, %2 MB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open Model Folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Calibrate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Evaluate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Also evaluate the full-precision model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Example session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The example session is built with the workbench when the stories260K model is found (../shared/models/stories260K); this build has none.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The session has changes that are not saved. Save them?</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mq::ui::MaskView</name>
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
        <source>tau_local = %1</source>
        <translation>tau_local = %1</translation>
    </message>
    <message>
        <source>tau_global = %1</source>
        <translation>tau_global = %1</translation>
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
        <source>alpha0[%1]</source>
        <translation>alpha0[%1]</translation>
    </message>
    <message>
        <source>alpha[%1]</source>
        <translation>alpha[%1]</translation>
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
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PNG image (*.png)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SVG image (*.svg)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PDF document (*.pdf)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not write %1 (PNG, SVG and PDF are supported).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mq::ui::SessionModel</name>
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
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The lowest SQNR of this layer&apos;s modules</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>paper form |max - min| / log(sum|x| + 1e-5)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>code form |max - min| / log(1 + mean|x| + 1e-5)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Highest dispersion score D_c over the input group&apos;s channels, all tokens pooled (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Channels compensated by DABC</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last MDQFO loss (L_p + lambda_cos L_cos) of the input group</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Output SQNR of the quantized module in dB over all calibration tokens, 10 log10(sum ||y||² / sum ||y - y_q||²); lower is worse. –: not measured for the current plan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Highest dispersion score D_c over the input group&apos;s channels, %1 tokens only (%2). –: no %1 token reached this input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Output SQNR of the quantized module in dB over %1 tokens only; lower is worse. –: not measured, or no %1 token reached this module</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>D_c text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>D_c image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>D_c video</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>D_c audio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SQNR dB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SQNR text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SQNR image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SQNR video</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SQNR audio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No %1 token reached input group %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Highest D_c of input group %1 over %2 %3 tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>all</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No output error measured for %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No %1 token in the output error of %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SQNR %1 dB, mean cosine %2 over %3 %4 tokens</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mq::ui::ThresholdPanel</name>
    <message>
        <source>tau = mu + k sigma of the dispersion scores D_c</source>
        <translation>tau = mu + k sigma，基于离散度分数 D_c</translation>
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
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Compensate only elements with |x| &gt; rho * alpha_c (0: every element of a masked channel); takes effect at the next quantization</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Optimize clipping bounds (MDQFO)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grid search over ratios</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Adam on alpha</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Exponent of the L_p morphology term (paper 0.5; authors&apos; configs 2, 3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Weight of the cosine term L_cos</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MorphoQuant (DABC + MDQFO, static per-channel activations)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>RTN (per-token dynamic activations)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Integer, symmetric</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NF4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unquantized (W16)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>per output channel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Weight scale group size along the input dimension (0: one scale per output channel)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A16 (unquantized)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quantize</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Build the plan with these settings for every layer (Study → Quantize)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>DABC</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>rho:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MDQFO</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Solver:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>p:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>lambda_cos:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bits and formats</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Method:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Weights:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Weight bits:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Weight group:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Activations:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No plan yet.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
