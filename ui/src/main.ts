// Entry: apply the saved language (lang/dir) before the first paint, then mount the app.
import './styles.css'
import { mount } from 'svelte'
import App from './App.svelte'
import { applyDocument } from './lib/settings.svelte'

applyDocument()
const target = document.getElementById('app')
if (!target) throw new Error('index.html has no #app element')
export default mount(App, { target })
