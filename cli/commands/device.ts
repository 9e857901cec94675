import type { CommandModule } from 'yargs';
import { openNodeDevice } from '../../runtime/node/gpu.ts';

export const deviceCommand: CommandModule<{}, { json?: boolean }> = {
  command: 'device',
  describe: 'Show the WebGPU adapter, its features and limits',
  builder: (y) => y.option('json', { type: 'boolean', describe: 'Print as JSON' }),
  handler: async (argv) => {
    const gpu = await openNodeDevice();
    if (argv.json) {
      console.log(JSON.stringify(gpu.info, null, 2));
    } else {
      console.log(`adapter   ${gpu.info.adapter}${gpu.info.isFallbackAdapter ? ' (software fallback)' : ''}`);
      console.log(`features  ${gpu.info.features.join(', ') || '(none of shader-f16, subgroups, timestamp-query)'}`);
      for (const [k, v] of Object.entries(gpu.info.limits)) console.log(`  ${k.padEnd(36)} ${v}`);
    }
    gpu.device.destroy();
  },
};
