/**
 * What to tell a user whose browser gives the lab no WebGPU. Kept as data in one place so the
 * header, the Diagnostics page and the README say the same thing.
 */
export const WEBGPU_HELP = {
  headline: 'WebGPU is not available in this browser, so the lab runs on a slower backend.',
  shipping: [
    'Chrome and Edge 113+ on Windows, macOS and ChromeOS',
    'Chrome 121+ on Android (Android 12+, recent Qualcomm / ARM GPUs)',
    'Safari 26+ on macOS, iOS and iPadOS',
    'Firefox 141+ on Windows',
  ],
  enabling: [
    'Chrome / Edge elsewhere: open chrome://flags/#enable-unsafe-webgpu, set it to Enabled, restart the browser.',
    'Linux: also start Chrome with --enable-features=Vulkan (and a working Vulkan driver), or --enable-unsafe-webgpu on the command line.',
    'Firefox on macOS / Linux: set dom.webgpu.enabled to true in about:config (experimental).',
    'Check chrome://gpu (or about:support) to see whether WebGPU is blocked for your GPU or driver.',
  ],
} as const;
