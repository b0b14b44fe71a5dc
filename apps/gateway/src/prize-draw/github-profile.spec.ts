import { asGithubUser, entrantProfile, entrantSnapshot } from './github-profile';

describe('GitHub profiles', () => {
  it('takes the name, avatar and page of a user', () => {
    const profile = entrantProfile('octocat', {
      login: 'Octocat',
      name: ' The Octocat ',
      avatar_url: 'https://avatars.example/u/1?v=4',
      html_url: 'https://github.com/octocat',
    });
    expect(profile).toEqual({
      githubId: 'octocat',
      login: 'Octocat',
      name: 'The Octocat',
      image: 'https://avatars.example/u/1?v=4',
      url: 'https://github.com/octocat',
    });
    expect(entrantSnapshot(profile)).toEqual({
      name: 'The Octocat',
      image: 'https://avatars.example/u/1?v=4',
    });
  });

  it('falls back to the login without a name, and drops URLs a page must not use', () => {
    expect(
      entrantProfile('x', {
        login: 'X',
        name: null,
        avatar_url: 'javascript:alert(1)',
        html_url: 'data:text/html,hi',
      }),
    ).toEqual({ githubId: 'x', login: 'X', name: 'X', image: '', url: null });
    expect(entrantProfile('x', { login: 'X', name: '   ', avatar_url: 7 }).name).toBe('X');
  });

  it('knows a user answer from anything else', () => {
    expect(asGithubUser({ login: 'a' })).toEqual({ login: 'a' });
    expect(asGithubUser({ login: '' })).toBeNull();
    expect(asGithubUser([{ login: 'a' }])).toBeNull();
    expect(asGithubUser(null)).toBeNull();
    expect(asGithubUser('a')).toBeNull();
  });
});
