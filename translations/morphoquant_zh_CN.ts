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
        <location filename="../widgets/main_window.cpp" line="84"/>
        <location filename="../widgets/main_window.cpp" line="259"/>
        <source>MorphoQuant Workbench</source>
        <translation>MorphoQuant 工作台</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="184"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="185"/>
        <source>&amp;Open Session...</source>
        <translation>打开会话(&amp;O)...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="209"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="221"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="222"/>
        <source>&amp;About MorphoQuant Workbench</source>
        <translation>关于 MorphoQuant 工作台(&amp;A)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="102"/>
        <location filename="../widgets/main_window.cpp" line="410"/>
        <source>Open a session (.mqs) made by morphoquant-cli quantize --session.</source>
        <translation>打开由 morphoquant-cli quantize --session 生成的会话（.mqs）。</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="69"/>
        <source>Unmask channel %1 of %2</source>
        <translation>取消掩码 %2 的通道 %1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="70"/>
        <source>Mask channel %1 of %2</source>
        <translation>掩码 %2 的通道 %1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="426"/>
        <source>
Plan: %1, %2 channels compensated by DABC</source>
        <translation>
方案：%1，DABC 补偿了 %2 个通道</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="430"/>
        <source>
%1: perplexity %2</source>
        <translation>
%1：困惑度 %2</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="233"/>
        <source>Opened %1</source>
        <translation>已打开 %1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="51"/>
        <source>k %1 → %2</source>
        <translation>k %1 → %2</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="52"/>
        <source>DABC threshold settings</source>
        <translation>DABC 阈值设置</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="93"/>
        <source>Cannot compute the DABC mask: %1</source>
        <translation>无法计算 DABC 掩码：%1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="138"/>
        <source>Channel %1 of %2</source>
        <translation>%2 的通道 %1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="148"/>
        <source>Modules</source>
        <translation>模块</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="149"/>
        <source>Summary</source>
        <translation>概要</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="150"/>
        <source>Dispersion Heatmap</source>
        <translation>离散度热图</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="151"/>
        <source>Outliers</source>
        <translation>离群值</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="152"/>
        <source>DABC Mask</source>
        <translation>DABC 掩码</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="153"/>
        <source>MDQFO Loss</source>
        <translation>MDQFO 损失</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="154"/>
        <source>DABC Threshold</source>
        <translation>DABC 阈值</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="173"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="187"/>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="188"/>
        <source>Re&amp;load</source>
        <translation>重新加载(&amp;L)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="191"/>
        <source>&amp;Export Plot</source>
        <translation>导出图表(&amp;E)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="193"/>
        <source>Dispersion Heatmap...</source>
        <translation>离散度热图...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="194"/>
        <source>Outliers...</source>
        <translation>离群值...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="195"/>
        <source>DABC Mask...</source>
        <translation>DABC 掩码...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="196"/>
        <source>MDQFO Loss...</source>
        <translation>MDQFO 损失...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="207"/>
        <source>PNG and PDF only (this build has no SVG support)</source>
        <translation>仅支持 PNG 和 PDF（此版本不支持 SVG）</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="212"/>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="213"/>
        <source>&amp;Undo</source>
        <translation>撤销(&amp;U)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="215"/>
        <source>&amp;Redo</source>
        <translation>重做(&amp;R)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="237"/>
        <source>Cannot open session</source>
        <translation>无法打开会话</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="238"/>
        <source>Could not open %1</source>
        <translation>无法打开 %1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="260"/>
        <source>%1 — MorphoQuant Workbench</source>
        <translation>%1 — MorphoQuant 工作台</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="328"/>
        <source>Recomputing the DABC mask...</source>
        <translation>正在重新计算 DABC 掩码...</translation>
    </message>
    <message numerus="yes">
        <location filename="../widgets/main_window.cpp" line="397"/>
        <source>%n channel(s) compensated</source>
        <translation>
            <numerusform>已补偿 %n 个通道</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="411"/>
        <source>No session</source>
        <translation>无会话</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="420"/>
        <source>Model %1 (%2)
%3 Linear modules in %4 input groups
%5 calibration tokens</source>
        <translation>模型 %1（%2）
%3 个 Linear 模块，分属 %4 个输入组
%5 个校准 token</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="432"/>
        <source>

Current input group: %1</source>
        <translation>

当前输入组：%1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="434"/>
        <source>Model: %1 (%2)</source>
        <translation>模型：%1（%2）</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="437"/>
        <source>Plan: %1, %2 masked channels</source>
        <translation>方案：%1，%2 个掩码通道</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="440"/>
        <source>No plan</source>
        <translation>无方案</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="445"/>
        <source>Open Session</source>
        <translation>打开会话</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="446"/>
        <source>MorphoQuant sessions (*.mqs);;All files (*)</source>
        <translation>MorphoQuant 会话 (*.mqs);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="483"/>
        <source>Clear List</source>
        <translation>清空列表</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="523"/>
        <source>About MorphoQuant Workbench</source>
        <translation>关于 MorphoQuant 工作台</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="524"/>
        <source>MorphoQuant Workbench %1
Modality-aware 4-bit post-training quantization (DABC + MDQFO).</source>
        <translation>MorphoQuant 工作台 %1
模态感知的 4 位训练后量化（DABC + MDQFO）。</translation>
    </message>
</context>
<context>
    <name>mq::ui::MaskView</name>
    <message>
        <location filename="../widgets/mask_view.cpp" line="17"/>
        <source>input channel</source>
        <translation>输入通道</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="18"/>
        <source>D_c</source>
        <translation>D_c</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="23"/>
        <source>kept (4-bit)</source>
        <translation>保留（4 位）</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="27"/>
        <source>masked (DABC)</source>
        <translation>掩码（DABC）</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="31"/>
        <source>edited by hand</source>
        <translation>手动编辑</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="51"/>
        <source>Click a channel to mask or unmask it by hand (Edit &gt; Undo reverts)</source>
        <translation>点击通道可手动掩码或取消掩码（编辑 &gt; 撤销可还原）</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="137"/>
        <source>tau_local = %1</source>
        <translation>tau_local = %1</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="138"/>
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
        <location filename="../widgets/session_model.cpp" line="154"/>
        <source>%1
input group %2</source>
        <translation>%1
输入组 %2</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="202"/>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="202"/>
        <source>Layer %1</source>
        <translation>第 %1 层</translation>
    </message>
    <message numerus="yes">
        <location filename="../widgets/session_model.cpp" line="203"/>
        <source>%n module(s)</source>
        <translation>
            <numerusform>%n 个模块</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="216"/>
        <source>Module</source>
        <translation>模块</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="217"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="218"/>
        <source>In → Out</source>
        <translation>输入 → 输出</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="219"/>
        <source>Input group</source>
        <translation>输入组</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="220"/>
        <source>Max D_c</source>
        <translation>最大 D_c</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="221"/>
        <source>Masked</source>
        <translation>掩码数</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="222"/>
        <source>Final loss</source>
        <translation>最终损失</translation>
    </message>
</context>
<context>
    <name>mq::ui::ThresholdPanel</name>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="39"/>
        <source>tau = mu + k sigma of the dispersion scores D_c</source>
        <translation>tau = mu + k sigma，基于离散度分数 D_c</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="40"/>
        <source>Local (this group&apos;s channels)</source>
        <translation>局部（本组通道）</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="41"/>
        <source>Global (all groups&apos; channels)</source>
        <translation>全局（所有组的通道）</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="43"/>
        <source>Code: |max-min| / log(1 + mean|x|)</source>
        <translation>代码：|max-min| / log(1 + mean|x|)</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="44"/>
        <source>Paper: |max-min| / log(||x||_1)</source>
        <translation>论文：|max-min| / log(||x||_1)</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="46"/>
        <source>Pooled over modalities</source>
        <translation>所有模态合并</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="47"/>
        <source>Outlier in any modality</source>
        <translation>任一模态中的离群值</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="49"/>
        <source>none (pure Eq. 6)</source>
        <translation>无（纯式 6）</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="50"/>
        <source>Module kinds whose input is masked entirely, comma separated (e.g. down_proj)</source>
        <translation>输入被整体掩码的模块类型，以逗号分隔（例如 down_proj）</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="54"/>
        <source>k:</source>
        <translation>k：</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="55"/>
        <source>Thresholds:</source>
        <translation>阈值：</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="57"/>
        <source>Score:</source>
        <translation>分数：</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="58"/>
        <source>Statistics:</source>
        <translation>统计：</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="59"/>
        <source>Force kinds:</source>
        <translation>强制类型：</translation>
    </message>
</context>
</TS>
