<?php
/**
 * Plugin Name: Akismet to the moderation service
 * Description: Must-use plugin: the stock Akismet plugin's API calls (rest.akismet.com) go to our Akismet-compatible API instead.
 * Version: 1.0.0
 * License: Apache-2.0
 *
 * Install: copy this file to wp-content/mu-plugins/, add to wp-config.php
 *     define( 'MODCOM_AKISMET_URL', 'https://moderation.example.id' );
 * and enter the site's `api_key` (from `moderation sites add`) as the Akismet API key.
 *
 * @package ModerationComments
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * pre_http_request: answer requests to (*.)rest.akismet.com by sending the same request -- same method, body and
 * headers except the pinned Host -- to the same /1.1/... path on our service, and returning that response.
 */
function modcom_akismet_bridge( $pre, $args, $url ) {
	$base = defined( 'MODCOM_AKISMET_URL' ) ? (string) MODCOM_AKISMET_URL : '';
	if ( false !== $pre || '' === $base ) {
		return $pre;
	}
	$host = (string) wp_parse_url( $url, PHP_URL_HOST );
	if ( ! preg_match( '/(^|\.)rest\.akismet\.com$/i', $host ) ) {
		return $pre;
	}
	$path   = (string) wp_parse_url( $url, PHP_URL_PATH );
	$query  = (string) wp_parse_url( $url, PHP_URL_QUERY );
	$target = untrailingslashit( $base ) . $path . ( '' !== $query ? '?' . $query : '' );
	if ( isset( $args['headers'] ) && is_array( $args['headers'] ) ) {
		unset( $args['headers']['Host'], $args['headers']['host'] );
	}
	// The new URL is not Akismet's, so this filter lets the nested request through.
	return wp_remote_request( $target, $args );
}
add_filter( 'pre_http_request', 'modcom_akismet_bridge', 10, 3 );
