import { mount } from 'svelte';
import App from './ui/App.svelte';
import './ui/app.css';

mount(App, { target: document.getElementById('app')! });

// Offline support (public/sw.js) only in the production build: in `vite dev` a service worker
// would serve stale modules. './sw.js' is relative, so the scope is wherever the lab is hosted.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  navigator.serviceWorker.register('./sw.js').catch((e: unknown) => console.warn('offline support unavailable:', e));
}
