def test_home_renders_in_every_language(client):
    for lang in ("ro", "ru", "en"):
        response = client.get("/", headers={"Accept-Language": lang})
        assert response.status_code == 200
        assert f'lang="{lang}"' in response.get_data(as_text=True)
