
import { describe, expect, it } from 'vitest';
import { useChatPages } from './chat-pages.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { noisePng, toneWav } from './media-files.js';

const WAIT = { timeout: 30_000 };

const { pageErrors, openAndJoin } = useChatPages({ wait: WAIT });

describe('attachments on the chat page', () => {
  it('sends a 5 MB photo between two pages (picker, progress bar, image shown) and a dropped voice note (audio player)', async () => {
    const room = `photos-${Date.now().toString(36)}`;
    const [alice, bob] = [await openAndJoin('alice', room), await openAndJoin('bob', room)];

    const photo = noisePng(1400, 1100);
    expect(photo.length).toBeGreaterThan(5 * 1024 * 1024);
    await alice.setInputFiles('#image-input', { name: 'photo.png', mimeType: 'image/png', buffer: photo });
    const size = await bob.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#messages li.msg[data-type="image"][data-sender="alice"] img[data-attachment]');
      return img?.complete && img.naturalWidth > 0 ? [img.naturalWidth, img.naturalHeight] : false;
    }, WAIT);
    expect(await size.jsonValue()).toEqual([1400, 1100]);
    // The progress bar went to 100 % and was put away.
    await alice.locator('#upload-progress[data-state="done"]').waitFor({ ...WAIT, state: 'attached' });
    expect(await alice.locator('#upload-progress').evaluate((bar: HTMLProgressElement) => [bar.value, bar.hidden])).toEqual([100, true]);
    // The sender sees its own photo too.
    await alice.locator('#messages li.msg.own[data-type="image"] img[data-attachment]').waitFor(WAIT);

    const voice = toneWav(15_000);
    expect(voice.length).toBeGreaterThan(LIMITS.mediaMaxBytes);
    await bob.evaluate((bytes) => {
      const file = new File([new Uint8Array(bytes)], 'voice.wav', { type: 'audio/wav' });
      const data = new DataTransfer();
      data.items.add(file);
      const target = document.getElementById('scroller')!;
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, Array.from(voice));
    await alice.waitForFunction(() => {
      const audio = document.querySelector<HTMLAudioElement>('#messages li.msg[data-type="audio"][data-sender="bob"] audio[data-attachment]');
      return audio !== null && audio.readyState >= HTMLMediaElement.HAVE_METADATA && audio.error === null;
    }, WAIT);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
