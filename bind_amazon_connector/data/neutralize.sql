-- a copied database must not talk to the sellers' Amazon accounts
UPDATE amazon_account
   SET refresh_token = NULL,
       lwa_client_secret = NULL,
       endpoint_override = NULL,
       token_url_override = NULL,
       seller_central_override = NULL,
       state = 'draft';
DELETE FROM amazon_oauth_state;
DELETE FROM ir_config_parameter
 WHERE key = 'bind_amazon_connector.lwa_client_secret';
