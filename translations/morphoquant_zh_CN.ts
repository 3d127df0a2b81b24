<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>main</name>
    <message>
        <location filename="../app/gui/main.cpp" line="41"/>
        <source>MorphoQuant Workbench</source>
        <translation>MorphoQuant 工作台</translation>
    </message>
    <message>
        <location filename="../app/gui/main.cpp" line="45"/>
        <source>Save a 1400x900 picture of the window to &lt;png&gt; and exit.</source>
        <translation>将 1400x900 的窗口截图保存到 &lt;png&gt; 后退出。</translation>
    </message>
    <message>
        <location filename="../app/gui/main.cpp" line="48"/>
        <source>Session file (.mqs) to open.</source>
        <translation>要打开的会话文件（.mqs）。</translation>
    </message>
</context>
<context>
    <name>mq::ui::DispersionHeatmapView</name>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="22"/>
        <source>Dispersion score D_c:</source>
        <translation>离散度分数 D_c：</translation>
    </message>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="24"/>
        <source>code: |max−min| / log(1 + mean|x| + 1e-5)</source>
        <translation>代码：|max−min| / log(1 + mean|x| + 1e-5)</translation>
    </message>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="25"/>
        <source>paper: |max−min| / log(‖X_c‖₁ + eps)</source>
        <translation>论文：|max−min| / log(‖X_c‖₁ + eps)</translation>
    </message>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="31"/>
        <source>input channel</source>
        <translation>输入通道</translation>
    </message>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="32"/>
        <source>input group</source>
        <translation>输入组</translation>
    </message>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="41"/>
        <source>D_c (pooled)</source>
        <translation>D_c（合并）</translation>
    </message>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="173"/>
        <source>group %1
channel %2
D_c = %3</source>
        <translation>组 %1
通道 %2
D_c = %3</translation>
    </message>
</context>
<context>
    <name>mq::ui::LossCurveView</name>
    <message>
        <location filename="../widgets/loss_curve_view.cpp" line="14"/>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <location filename="../widgets/loss_curve_view.cpp" line="15"/>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <location filename="../widgets/loss_curve_view.cpp" line="25"/>
        <source>L_p</source>
        <translation>L_p</translation>
    </message>
    <message>
        <location filename="../widgets/loss_curve_view.cpp" line="26"/>
        <source>L_cos</source>
        <translation>L_cos</translation>
    </message>
    <message>
        <location filename="../widgets/loss_curve_view.cpp" line="27"/>
        <source>total</source>
        <translation>总计</translation>
    </message>
</context>
<context>
    <name>mq::ui::MainWindow</name>
    <message>
        <location filename="../widgets/main_window.cpp" line="43"/>
        <location filename="../widgets/main_window.cpp" line="193"/>
        <source>MorphoQuant Workbench</source>
        <translation>MorphoQuant 工作台</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="131"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="132"/>
        <source>&amp;Open Session...</source>
        <translation>打开会话(&amp;O)...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="156"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="160"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="161"/>
        <source>&amp;About MorphoQuant Workbench</source>
        <translation>关于 MorphoQuant 工作台(&amp;A)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="55"/>
        <location filename="../widgets/main_window.cpp" line="252"/>
        <source>Open a session (.mqs) made by morphoquant-cli quantize --session.</source>
        <translation>打开由 morphoquant-cli quantize --session 生成的会话（.mqs）。</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="268"/>
        <source>
Plan: %1, %2 channels compensated by DABC</source>
        <translation>
方案：%1，DABC 补偿了 %2 个通道</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="272"/>
        <source>
%1: perplexity %2</source>
        <translation>
%1：困惑度 %2</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="172"/>
        <source>Opened %1</source>
        <translation>已打开 %1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="88"/>
        <source>Channel %1 of %2</source>
        <translation>%2 的通道 %1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="98"/>
        <source>Modules</source>
        <translation>模块</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="99"/>
        <source>Summary</source>
        <translation>概要</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="100"/>
        <source>Dispersion Heatmap</source>
        <translation>离散度热图</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="101"/>
        <source>Outliers</source>
        <translation>离群值</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="102"/>
        <source>DABC Mask</source>
        <translation>DABC 掩码</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="103"/>
        <source>MDQFO Loss</source>
        <translation>MDQFO 损失</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="120"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="134"/>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="135"/>
        <source>Re&amp;load</source>
        <translation>重新加载(&amp;L)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="138"/>
        <source>&amp;Export Plot</source>
        <translation>导出图表(&amp;E)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="140"/>
        <source>Dispersion Heatmap...</source>
        <translation>离散度热图...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="141"/>
        <source>Outliers...</source>
        <translation>离群值...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="142"/>
        <source>DABC Mask...</source>
        <translation>DABC 掩码...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="143"/>
        <source>MDQFO Loss...</source>
        <translation>MDQFO 损失...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="154"/>
        <source>PNG and PDF only (this build has no SVG support)</source>
        <translation>仅支持 PNG 和 PDF（此版本不支持 SVG）</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="176"/>
        <source>Cannot open session</source>
        <translation>无法打开会话</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="177"/>
        <source>Could not open %1</source>
        <translation>无法打开 %1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="194"/>
        <source>%1 — MorphoQuant Workbench</source>
        <translation>%1 — MorphoQuant 工作台</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="253"/>
        <source>No session</source>
        <translation>无会话</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="262"/>
        <source>Model %1 (%2)
%3 Linear modules in %4 input groups
%5 calibration tokens</source>
        <translation>模型 %1（%2）
%3 个 Linear 模块，分属 %4 个输入组
%5 个校准 token</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="274"/>
        <source>

Current input group: %1</source>
        <translation>

当前输入组：%1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="276"/>
        <source>Model: %1 (%2)</source>
        <translation>模型：%1（%2）</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="279"/>
        <source>Plan: %1, %2 masked channels</source>
        <translation>方案：%1，%2 个掩码通道</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="282"/>
        <source>No plan</source>
        <translation>无方案</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="287"/>
        <source>Open Session</source>
        <translation>打开会话</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="288"/>
        <source>MorphoQuant sessions (*.mqs);;All files (*)</source>
        <translation>MorphoQuant 会话 (*.mqs);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="325"/>
        <source>Clear List</source>
        <translation>清空列表</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="365"/>
        <source>About MorphoQuant Workbench</source>
        <translation>关于 MorphoQuant 工作台</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="366"/>
        <source>MorphoQuant Workbench %1
Modality-aware 4-bit post-training quantization (DABC + MDQFO).</source>
        <translation>MorphoQuant 工作台 %1
模态感知的 4 位训练后量化（DABC + MDQFO）。</translation>
    </message>
</context>
<context>
    <name>mq::ui::MaskView</name>
    <message>
        <location filename="../widgets/mask_view.cpp" line="16"/>
        <source>input channel</source>
        <translation>输入通道</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="17"/>
        <source>D_c</source>
        <translation>D_c</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="22"/>
        <source>kept (4-bit)</source>
        <translation>保留（4 位）</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="26"/>
        <source>masked (DABC)</source>
        <translation>掩码（DABC）</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="95"/>
        <source>tau_local = %1</source>
        <translation>tau_local = %1</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="96"/>
        <source>tau_global = %1</source>
        <translation>tau_global = %1</translation>
    </message>
</context>
<context>
    <name>mq::ui::OutlierView</name>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="28"/>
        <source>per-channel max|x|</source>
        <translation>每通道 max|x|</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="29"/>
        <source>channels</source>
        <translation>通道数</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="135"/>
        <source>%1 (%2 tokens)</source>
        <translation>%1（%2 个 token）</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="146"/>
        <source>alpha0[%1]</source>
        <translation>alpha0[%1]</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="148"/>
        <source>alpha[%1]</source>
        <translation>alpha[%1]</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="153"/>
        <source>min %1</source>
        <translation>最小 %1</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="154"/>
        <source>median %1</source>
        <translation>中位 %1</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="155"/>
        <source>max %1</source>
        <translation>最大 %1</translation>
    </message>
</context>
<context>
    <name>mq::ui::PlotExport</name>
    <message>
        <location filename="../widgets/plot_export.cpp" line="25"/>
        <source>Export Plot</source>
        <translation>导出图表</translation>
    </message>
    <message>
        <location filename="../widgets/plot_export.cpp" line="26"/>
        <source>PNG image (*.png);;PDF document (*.pdf)</source>
        <translation>PNG 图像 (*.png);;PDF 文档 (*.pdf)</translation>
    </message>
    <message>
        <location filename="../widgets/plot_export.cpp" line="32"/>
        <source>Export failed</source>
        <translation>导出失败</translation>
    </message>
    <message>
        <location filename="../widgets/plot_export.cpp" line="33"/>
        <source>Could not write %1 (PNG and PDF are supported).</source>
        <translation>无法写入 %1（支持 PNG 和 PDF）。</translation>
    </message>
    <message>
        <location filename="../widgets/plot_export.cpp" line="41"/>
        <source>Export Plot...</source>
        <translation>导出图表...</translation>
    </message>
    <message>
        <location filename="../widgets/plot_export.cpp" line="42"/>
        <source>Reset View</source>
        <translation>重置视图</translation>
    </message>
</context>
<context>
    <name>mq::ui::SessionModel</name>
    <message>
        <location filename="../widgets/session_model.cpp" line="134"/>
        <source>%1
input group %2</source>
        <translation>%1
输入组 %2</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="182"/>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="182"/>
        <source>Layer %1</source>
        <translation>第 %1 层</translation>
    </message>
    <message numerus="yes">
        <location filename="../widgets/session_model.cpp" line="183"/>
        <source>%n module(s)</source>
        <translation>
            <numerusform>%n 个模块</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="196"/>
        <source>Module</source>
        <translation>模块</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="197"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="198"/>
        <source>In → Out</source>
        <translation>输入 → 输出</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="199"/>
        <source>Input group</source>
        <translation>输入组</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="200"/>
        <source>Max D_c</source>
        <translation>最大 D_c</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="201"/>
        <source>Masked</source>
        <translation>掩码数</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="202"/>
        <source>Final loss</source>
        <translation>最终损失</translation>
    </message>
</context>
</TS>
