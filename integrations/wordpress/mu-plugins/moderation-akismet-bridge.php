<?php
/**
 * Plugin Name: Akismet to the moderation service
 * Description: Must-use plugin: the stock Akismet plugin's API calls (rest.akismet.com) go to our Akismet-compatible API instead, signed in with the site's own api_key.
 * Version: 1.1.0
 * License: Apache-2.0
 *
 * Install: copy this file to wp-content/mu-plugins/ and add to wp-config.php
 *     define( 'MODCOM_AKISMET_URL', 'https://moderation.example.id' );
 *     define( 'MODCOM_AKISMET_KEY', '<the api_key printed by `moderation sites add`>' );
 * Nothing is typed into Settings > Akismet: the key counts as set in wp-config.php.
 *
 * Why a placeholder: the stock plugin (checked with Akismet 5.0.2) refuses every key that is not exactly
 * 12 characters long before asking any server, and our api_key is 32 hex characters. So the stock plugin is
 * given MODCOM_AKISMET_PLACEHOLDER (12 characters) as its key, and this plugin puts the real key back into
 * each request it sends to our service. The real key thus never leaves wp-config.php except towards us
 * (the stock plugin also puts its key into URLs of tools.akismet.com frames; those get the placeholder).
 *
 * @package ModerationComments
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** The 12-character key the stock Akismet plugin sees; it stands for MODCOM_AKISMET_KEY and opens nothing else. */
define( 'MODCOM_AKISMET_PLACEHOLDER', '000000000000' );

/** Our service's base URL ('' when this plugin is not configured). */
function modcom_akismet_base() {
	return defined( 'MODCOM_AKISMET_URL' ) ? untrailingslashit( (string) MODCOM_AKISMET_URL ) : '';
}

/** The site's real api_key ('' when not configured). */
function modcom_akismet_key() {
	return defined( 'MODCOM_AKISMET_KEY' ) ? trim( (string) MODCOM_AKISMET_KEY ) : '';
}

/** akismet_get_api_key: with our URL and key configured, the stock plugin's key is the placeholder. */
function modcom_akismet_api_key( $key ) {
	return ( '' !== modcom_akismet_base() && '' !== modcom_akismet_key() ) ? MODCOM_AKISMET_PLACEHOLDER : $key;
}
add_filter( 'akismet_get_api_key', 'modcom_akismet_api_key', 99 );

/** akismet_predefined_api_key: the key lives in wp-config.php, so Settings > Akismet offers no key field. */
function modcom_akismet_predefined( $predefined ) {
	return ( '' !== modcom_akismet_base() && '' !== modcom_akismet_key() ) ? true : $predefined;
}
add_filter( 'akismet_predefined_api_key', 'modcom_akismet_predefined', 99 );

/**
 * Whether a request is meant for Akismet's API: its URL's host is (*.)rest.akismet.com, or it goes to an IP
 * address with that Host header (the stock plugin's per-server connectivity check does this).
 */
function modcom_akismet_is_akismet( $url, $args ) {
	$pattern = '/(^|\.)rest\.akismet\.com$/i';
	$host    = (string) wp_parse_url( $url, PHP_URL_HOST );
	if ( preg_match( $pattern, $host ) ) {
		return true;
	}
	$headers = isset( $args['headers'] ) && is_array( $args['headers'] ) ? array_change_key_case( $args['headers'] ) : array();
	return (bool) filter_var( $host, FILTER_VALIDATE_IP ) && isset( $headers['host'] ) && preg_match( $pattern, (string) $headers['host'] ) === 1;
}

/** The request body with every `key`/`api_key` equal to the placeholder replaced by the real key (other keys stay). */
function modcom_akismet_real_key( $body, $key ) {
	if ( is_array( $body ) ) {
		foreach ( array( 'key', 'api_key' ) as $name ) {
			if ( isset( $body[ $name ] ) && MODCOM_AKISMET_PLACEHOLDER === $body[ $name ] ) {
				$body[ $name ] = $key;
			}
		}
		return $body;
	}
	// A form-encoded string: change only those two fields, byte for byte, so every other field (in whatever
	// blog_charset the site uses) reaches us exactly as the stock plugin encoded it.
	return preg_replace_callback(
		'/(^|&)(api_key|key)=' . preg_quote( MODCOM_AKISMET_PLACEHOLDER, '/' ) . '(?=&|$)/',
		function ( $m ) use ( $key ) {
			return $m[1] . $m[2] . '=' . rawurlencode( $key );
		},
		(string) $body
	);
}

/**
 * For key checks (verify-key, get-subscription) the key asked about is `key`; the stock plugin also adds its own
 * configured key as `api_key`, which must not answer for it. So `api_key` is dropped when a `key` is given.
 */
function modcom_akismet_key_check( $body ) {
	if ( is_array( $body ) ) {
		if ( isset( $body['key'] ) ) {
			unset( $body['api_key'] );
		}
		return $body;
	}
	$body = (string) $body;
	if ( ! preg_match( '/(^|&)key=/', $body ) ) {
		return $body;
	}
	return ltrim( preg_replace( '/(^|&)api_key=[^&]*/', '', $body ), '&' );
}

/** A plain 200 text answer in the shape wp_remote_request() returns. */
function modcom_akismet_answer( $body ) {
	return array(
		'headers'  => array( 'content-type' => 'text/plain' ),
		'body'     => $body,
		'response' => array( 'code' => 200, 'message' => 'OK' ),
		'cookies'  => array(),
		'filename' => null,
	);
}

/**
 * Akismet's account endpoints, which our service does not have, answered here so that Settings > Akismet
 * tells the truth: `test` is "connected" when our /healthz answers 200; `get-subscription` is an active
 * account exactly when our service accepts the key; `get-stats` has no figures. Null for every other path.
 */
function modcom_akismet_account( $path, $args, $base ) {
	if ( '/1.1/test' === $path ) {
		$health = wp_remote_get( $base . '/healthz', array( 'timeout' => 10 ) );
		return is_wp_error( $health ) ? $health : modcom_akismet_answer( 200 === wp_remote_retrieve_response_code( $health ) ? 'connected' : '' );
	}
	if ( '/1.1/get-subscription' === $path ) {
		$check = wp_remote_request( $base . '/1.1/verify-key', $args );
		if ( is_wp_error( $check ) ) {
			return $check;
		}
		if ( 'valid' !== trim( wp_remote_retrieve_body( $check ) ) ) {
			return modcom_akismet_answer( 'invalid' );
		}
		$host = (string) wp_parse_url( $base, PHP_URL_HOST );
		return modcom_akismet_answer(
			wp_json_encode(
				array(
					'status'            => 'active',
					'account_type'      => 'self-hosted',
					'account_name'      => 'Moderation service at ' . $host,
					'next_billing_date' => null,
					'limit_reached'     => false,
				)
			)
		);
	}
	if ( '/1.1/get-stats' === $path ) {
		return modcom_akismet_answer( '' );
	}
	return null;
}

/**
 * pre_http_request: answer a request meant for Akismet by sending the same request -- same method, headers
 * (less the pinned Host) and body, with the real key in place of the placeholder -- to the same path on our
 * service, and returning that response.
 */
function modcom_akismet_bridge( $pre, $args, $url ) {
	$base = modcom_akismet_base();
	if ( false !== $pre || '' === $base || ! modcom_akismet_is_akismet( $url, $args ) ) {
		return $pre;
	}
	$path  = (string) wp_parse_url( $url, PHP_URL_PATH );
	$query = (string) wp_parse_url( $url, PHP_URL_QUERY );
	if ( isset( $args['headers'] ) && is_array( $args['headers'] ) ) {
		// Any spelling: a Host left pinned to Akismet would also make the nested request look like Akismet's.
		foreach ( array_keys( $args['headers'] ) as $name ) {
			if ( 'host' === strtolower( (string) $name ) ) {
				unset( $args['headers'][ $name ] );
			}
		}
	}
	$key = modcom_akismet_key();
	if ( '' !== $key && isset( $args['body'] ) ) {
		$args['body'] = modcom_akismet_real_key( $args['body'], $key );
	}
	if ( isset( $args['body'] ) && in_array( $path, array( '/1.1/verify-key', '/1.1/get-subscription' ), true ) ) {
		$args['body'] = modcom_akismet_key_check( $args['body'] );
	}
	$local = modcom_akismet_account( $path, $args, $base );
	if ( null !== $local ) {
		return $local;
	}
	// The new URL is not Akismet's, so this filter lets the nested request through.
	return wp_remote_request( $base . $path . ( '' !== $query ? '?' . $query : '' ), $args );
}
add_filter( 'pre_http_request', 'modcom_akismet_bridge', 10, 3 );
