// 登录: the first login on a device needs the network; later ones work offline with the password
// checked against what this device kept.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { useApp } from '../hooks.js';

export function LoginScreen() {
  const app = useApp();
  const [userId, setUserId] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError('');
    if (!userId.trim() || !password) return setError('请输入账号和密码');
    setBusy(true);
    try {
      await app.login(userId.trim(), password);
    } catch (err) {
      setError(err.message || '登录失败');
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="login">
    <form class="login-card" onSubmit=${submit}>
      <h1>枫桥</h1>
      <p class="subtitle">矛盾纠纷多元化解 · 案件办理</p>
      <label for="login-user">账号</label>
      <input id="login-user" name="username" autocomplete="username" value=${userId} onInput=${(e) => setUserId(e.currentTarget.value)} />
      <label for="login-password">密码</label>
      <input id="login-password" name="password" type="password" autocomplete="current-password" value=${password}
        onInput=${(e) => setPassword(e.currentTarget.value)} />
      ${error ? html`<div class="error-text" role="alert">${error}</div>` : null}
      <button class="primary" type="submit" disabled=${busy}>${busy ? '正在登录…' : '登录'}</button>
      <p class="hint">首次在本设备登录需要联网；之后无网络时也可登录并继续办理案件，联网后自动同步。</p>
    </form>
  </main>`;
}
