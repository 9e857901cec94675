import { TlcError } from './errors.ts';
// The one place that knows about adapters, limits and features. Takes any `GPU`
// (navigator.gpu in the browser, Dawn's in Node), so the rest of the runtime only sees a GPUDevice.

export interface DeviceInfo {
  adapter: string;             // "llvmpipe (LLVM 15.0.6, 256 bits)" or vendor/architecture
  features: string[];          // the optional features we asked for and got
  limits: Record<string, number>;
  isFallbackAdapter: boolean;
}

export interface Gpu {
  device: GPUDevice;
  info: DeviceInfo;
  hasF16: boolean;
  hasSubgroups: boolean;
  hasTimestamps: boolean;
}

export class DeviceError extends TlcError {
  override name = 'DeviceError';
}

// Optional features: every kernel also has a path that needs none of them.
const WANTED_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;
// Limits we raise to the adapter's own values (the defaults are far lower: 128 MiB binding, 256 MiB buffer).
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage',
] as const;

export interface OpenOptions {
  /** Turn optional features off, to test the paths that need none (e.g. ['shader-f16']). */
  disableFeatures?: string[];
  powerPreference?: GPUPowerPreference;
}

export async function openDevice(gpu: GPU | undefined, opts: OpenOptions = {}): Promise<Gpu> {
  if (!gpu) throw new DeviceError(noWebGpuMessage());
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new DeviceError(noWebGpuMessage());

  const disabled = new Set(opts.disableFeatures ?? []);
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f) && !disabled.has(f)) as GPUFeatureName[];
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  } catch (e) {
    throw new DeviceError(`The WebGPU adapter refused a device: ${(e as Error).message}`);
  }
  device.lost.then((why) => {
    if (why.reason !== 'destroyed') console.error(`tlc: the GPU device was lost (${why.message}).`);
  });

  const ai = adapter.info;
  const name = [ai?.description, ai?.vendor, ai?.architecture, ai?.device].filter(Boolean).join(' ') || 'unknown adapter';
  const limits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) limits[name] = (device.limits as unknown as Record<string, number>)[name];
  const info: DeviceInfo = {
    adapter: name,
    features: requiredFeatures,
    limits,
    isFallbackAdapter: Boolean((ai as unknown as { isFallbackAdapter?: boolean })?.isFallbackAdapter ?? (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter),
  };
  const has = (f: string) => requiredFeatures.includes(f as GPUFeatureName);
  return { device, info, hasF16: has('shader-f16'), hasSubgroups: has('subgroups'), hasTimestamps: has('timestamp-query') };
}

function noWebGpuMessage(): string {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  return isNode
    ? 'No WebGPU adapter found. Install a Vulkan driver: on Debian 12 without a GPU run `bash scripts/setup.sh` (it installs Mesa lavapipe from bookworm-backports).'
    : 'This browser offers no WebGPU adapter. Use a recent Chrome or Chromium (on a machine without a GPU start it with --enable-unsafe-webgpu).';
}

/** Runs `fn` inside error scopes, turning validation and out-of-memory errors into DeviceError. */
export async function checked<T>(device: GPUDevice, what: string, fn: () => T): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const result = fn();
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  if (oom) throw new DeviceError(`Out of GPU memory while ${what}: ${oom.message}`);
  if (validation) throw new DeviceError(`WebGPU rejected ${what}: ${validation.message}`);
  return result;
}
